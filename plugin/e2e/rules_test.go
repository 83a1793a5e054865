package e2e

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/falcosecurity/plugin-sdk-go/pkg/loader"
	"go.yaml.in/yaml/v3"
)

// rulesItem is one item of a Falco rules file.
type rulesItem struct {
	RequiredEngineVersion  string `yaml:"required_engine_version"`
	RequiredPluginVersions []struct {
		Name    string `yaml:"name"`
		Version string `yaml:"version"`
	} `yaml:"required_plugin_versions"`
	List      string   `yaml:"list"`
	Items     []string `yaml:"items"`
	Macro     string   `yaml:"macro"`
	Rule      string   `yaml:"rule"`
	Desc      string   `yaml:"desc"`
	Condition string   `yaml:"condition"`
	Output    string   `yaml:"output"`
	Priority  string   `yaml:"priority"`
	Source    string   `yaml:"source"`
	Tags      []string `yaml:"tags"`
}

var (
	// quoted strips string literals from a condition before it is scanned.
	quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	// dotted finds field names in a condition: words with a dot.
	dotted = regexp.MustCompile(`\b[a-z][a-z0-9_]*\.[a-z0-9_.]+\b`)
	// outputField finds %field in an output.
	outputField = regexp.MustCompile(`%([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)`)
	// word finds identifiers in a condition.
	word = regexp.MustCompile(`\b[a-z][a-z0-9_]*\b`)
)

// The rules file is valid YAML in Falco's layout, needs this plugin at its
// version, and its conditions and outputs use only fields the built plugin
// declares and macros and lists the file defines.
func TestRulesFile(t *testing.T) {
	data, err := os.ReadFile("../rules/activityaudit_rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var items []rulesItem
	if err := yaml.Unmarshal(data, &items); err != nil {
		t.Fatalf("rules file is not valid YAML: %v", err)
	}
	p, err := loader.NewValidPlugin(soPath)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Unload()
	declared := map[string]bool{}
	for _, f := range p.Fields() {
		declared[f.Name] = true
	}

	if len(items) < 2 || items[0].RequiredEngineVersion == "" {
		t.Fatal("the rules file does not start with required_engine_version")
	}
	pv := items[1].RequiredPluginVersions
	if len(pv) != 1 || pv[0].Name != "activityaudit" || pv[0].Version != p.Info().Version {
		t.Errorf("required_plugin_versions = %+v, want activityaudit %s", pv, p.Info().Version)
	}

	names := map[string]bool{}
	for _, it := range items {
		for _, n := range []string{it.List, it.Macro} {
			if n != "" {
				if names[n] {
					t.Errorf("%s is defined twice", n)
				}
				names[n] = true
			}
		}
	}
	checkCondition := func(what, cond string) {
		if strings.Count(cond, "(") != strings.Count(cond, ")") {
			t.Errorf("%s: unbalanced parentheses", what)
		}
		if strings.Count(cond, `"`)%2 != 0 {
			t.Errorf("%s: unbalanced quotes", what)
		}
		bare := quoted.ReplaceAllString(cond, `""`)
		for _, f := range dotted.FindAllString(bare, -1) {
			if !declared[f] {
				t.Errorf("%s uses %s, which the plugin does not declare", what, f)
			}
		}
		for _, w := range word.FindAllString(dotted.ReplaceAllString(bare, ""), -1) {
			if strings.HasPrefix(w, "activityaudit_") && !names[w] {
				t.Errorf("%s uses %s, which the file does not define", what, w)
			}
		}
	}

	rules := 0
	for _, it := range items {
		switch {
		case it.Macro != "":
			checkCondition("macro "+it.Macro, it.Condition)
		case it.Rule != "":
			rules++
			what := "rule " + it.Rule
			checkCondition(what, it.Condition)
			if it.Source != "activityaudit" {
				t.Errorf("%s: source %q, want activityaudit", what, it.Source)
			}
			if it.Desc == "" || len(it.Tags) == 0 {
				t.Errorf("%s: no desc or tags", what)
			}
			if !slices.Contains([]string{"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFORMATIONAL", "DEBUG"}, it.Priority) {
				t.Errorf("%s: priority %q", what, it.Priority)
			}
			if !strings.Contains(it.Output, "%activity.link") {
				t.Errorf("%s: output has no %%activity.link", what)
			}
			for _, m := range outputField.FindAllStringSubmatch(it.Output, -1) {
				if !declared[m[1]] {
					t.Errorf("%s: output uses %s, which the plugin does not declare", what, m[1])
				}
			}
		case it.List != "":
			if len(it.Items) == 0 {
				t.Errorf("list %s is empty", it.List)
			}
		}
	}
	if rules < 5 {
		t.Errorf("%d rules, want at least 5", rules)
	}
}
