package e2e

import (
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/plugin/activityaudit"
	"github.com/falcosecurity/plugin-sdk-go/pkg/loader"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
)

var update = flag.Bool("update", false, "rewrite the README's field table from the built plugin")

const (
	readmePath  = "../README.md"
	fieldsBegin = "<!-- fields:begin -->\n"
	fieldsEnd   = "<!-- fields:end -->"
)

// fieldTable renders the fields as plugin_get_fields declares them.
func fieldTable(fields []sdk.FieldEntry) string {
	var b strings.Builder
	b.WriteString("| field | type | description |\n|---|---|---|\n")
	for _, f := range fields {
		b.WriteString("| `" + f.Name + "` | " + f.Type + " | " + strings.ReplaceAll(f.Desc, "|", `\|`) + " |\n")
	}
	return b.String()
}

// The README's field table is the built plugin's (-update rewrites it).
func TestReadmeFieldTable(t *testing.T) {
	p, err := loader.NewValidPlugin(soPath)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Unload()
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i, j := strings.Index(text, fieldsBegin), strings.Index(text, fieldsEnd)
	if i < 0 || j < i {
		t.Fatalf("README has no %q ... %q section", fieldsBegin, fieldsEnd)
	}
	want := fieldTable(p.Fields())
	got := text[i+len(fieldsBegin) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(readmePath, []byte(text[:i+len(fieldsBegin)]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README field table is not the plugin's: run go test ./plugin/e2e -run TestReadmeFieldTable -update")
}

// The README's configuration table names every init_config key.
func TestReadmeConfigKeys(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	ct := reflect.TypeFor[activityaudit.Config]()
	for i := range ct.NumField() {
		key := ct.Field(i).Tag.Get("json")
		if !strings.Contains(string(data), "`"+key+"`") {
			t.Errorf("README does not document %s", key)
		}
	}
}
