package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/plugin/internal/falcoapi"
	"github.com/falcosecurity/plugin-sdk-go/pkg/loader"
)

// Environment of a child test process: the plugin to load, and the config
// to init it with.
const (
	childSO     = "ACTIVITYAUDIT_E2E_SO"
	childConfig = "ACTIVITYAUDIT_E2E_CONFIG"
)

// wantType is the Falco type a registry field is declared with.
var wantType = map[field.Type]string{field.String: "string", field.Uint: "uint64", field.Time: "uint64", field.Bool: "bool"}

// Falco's own loader loads the plugin, validates it and reads what Falco
// reads: identity, capabilities, fields and the init schema.
func TestLoaderValidates(t *testing.T) {
	p, err := loader.NewValidPlugin(soPath)
	if err != nil {
		t.Fatalf("load and validate: %v", err)
	}
	defer p.Unload()
	info := p.Info()
	if info.ID != 999 || info.Name != "activityaudit" || info.EventSource != "activityaudit" || info.Version == "" {
		t.Errorf("info = %+v", info)
	}
	if got := strings.Join(info.ExtractEventSources, ","); got != "activityaudit,k8s_audit" {
		t.Errorf("extract event sources = %s", got)
	}
	if !p.HasCapSourcing() || !p.HasCapExtraction() || p.HasCapBroken() {
		t.Errorf("capabilities: sourcing %v, extraction %v, broken %v (%v)", p.HasCapSourcing(), p.HasCapExtraction(), p.HasCapBroken(), p.CapBrokenError())
	}
	fields := p.Fields()
	reg := field.All()
	if len(fields) != len(reg)+2 {
		t.Fatalf("%d fields, want %d registry fields and 2 links", len(fields), len(reg))
	}
	for i, f := range reg {
		if fields[i].Name != "activity."+f.Name || fields[i].Type != wantType[f.Type] || fields[i].Desc == "" {
			t.Errorf("field %d = %s %s, want activity.%s %s", i, fields[i].Name, fields[i].Type, f.Name, wantType[f.Type])
		}
	}
	for i, name := range []string{"activity.link", "activity.trace_link"} {
		if f := fields[len(reg)+i]; f.Name != name || f.Type != "string" {
			t.Errorf("field %d = %s %s, want %s string", len(reg)+i, f.Name, f.Type, name)
		}
	}
	schema := p.InitSchema()
	if schema == nil {
		t.Fatal("no init schema")
	}
	var s struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal([]byte(schema.Schema), &s); err != nil || len(s.Properties) == 0 {
		t.Errorf("init schema %s: %v", schema.Schema, err)
	}
	if err := p.Init(`{"lokiURL":"http://127.0.0.1:3100","grafanaURL":"https://grafana.example.com"}`); err != nil {
		t.Fatalf("init: %v", err)
	}
	params, err := p.OpenParams()
	if err != nil || len(params) == 0 {
		t.Errorf("open params = %v, %v", params, err)
	}
}

// Good configurations initialize, through the loader, which checks them
// against the init schema first, as Falco does.
func TestLoaderInitGoodConfigs(t *testing.T) {
	for _, config := range []string{
		``,
		`{}`,
		`{"lokiURL":"https://loki.example.com/loki","tenant":"acme","bearerToken":"t","grafanaURL":"https://g.example.com/grafana",` +
			`"filter":"namespace!=\"kube-system\"","sources":["cmd","kube_exec"],"start":"now-1h","cursorFile":"/tmp/x",` +
			`"pollInterval":"500ms","delay":"2s","pageSize":5000,"timeout":"10s","linkBefore":"30m","linkAfter":"5m"}`,
	} {
		p, err := loader.NewValidPlugin(soPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Init(config); err != nil {
			t.Errorf("init with %s: %v", config, err)
		}
		p.Unload()
	}
}

// A bad configuration fails init with an error that says what is wrong —
// through Falco's loader (schema first) and through plugin_init itself.
// Each runs in a fresh process, as a Falco that fails to start: the SDK
// (v0.8.3) panics when a failed init is destroyed after an earlier init in
// the same process succeeded, which Falco never does.
func TestInitBadConfigs(t *testing.T) {
	tests := []struct {
		config string
		loader string // in the loader's error (the schema's, or ours)
		init   string // in plugin_init's error
	}{
		{`{"lokiUrl":"http://x"}`, "lokiUrl", `unknown key "lokiUrl" (did you mean "lokiURL"?)`},
		{`{"pageSize":0.5}`, "Expected: integer", "pageSize"},
		{`{"sources":["cmd","exec"]}`, "sources", `sources: unknown source "exec"`},
		{`{"lokiURL":"ftp://loki"}`, `lokiURL: parse loki url: scheme "ftp" is not http or https`, `lokiURL: parse loki url: scheme "ftp"`},
		{`{"filter":"comn=\"bash\""}`, "filter: ", "filter: "},
		{`{"start":"yesterday"}`, `start: parse time "yesterday"`, `start: parse time "yesterday"`},
		{`{"delay":"5 seconds"}`, "delay: bad duration", "delay: bad duration"},
		{`{"grafanaURL":"localhost:3000"}`, "grafanaURL: ", "grafanaURL: "},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			out := runChild(t, "TestChildInit", tt.config)
			var got struct{ Loader, Init string }
			if err := json.Unmarshal([]byte(lastLine(out)), &got); err != nil {
				t.Fatalf("child output: %v\n%s", err, out)
			}
			if !strings.Contains(got.Loader, tt.loader) {
				t.Errorf("loader init error = %q, want it to contain %q", got.Loader, tt.loader)
			}
			if !strings.Contains(got.Init, tt.init) || !strings.Contains(got.Init, "init activityaudit") {
				t.Errorf("plugin_init error = %q, want it to contain %q", got.Init, tt.init)
			}
		})
	}
}

// TestChildInit runs in a child process only: it inits the plugin with the
// config from the environment, once through the loader and once through
// plugin_init, and prints both errors as JSON.
func TestChildInit(t *testing.T) {
	config, ok := os.LookupEnv(childConfig)
	if !ok {
		t.Skip("runs as a child of TestInitBadConfigs")
	}
	var out struct{ Loader, Init string }
	p, err := loader.NewValidPlugin(soPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Init(config); err != nil {
		out.Loader = err.Error()
	}
	l, err := falcoapi.Load(soPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Init(config); err != nil {
		out.Init = err.Error()
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

// runChild runs one test of this binary in a new process and returns its
// output; the child must pass.
func runChild(t *testing.T, test, config string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), childSO+"="+soPath, childConfig+"="+config)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "panic:") {
		t.Fatalf("child %s: %v\n%s", test, err, out)
	}
	return string(out)
}

// lastLine is the JSON line a child printed (before the test runner's own).
func lastLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "{") {
			return l
		}
	}
	return ""
}
