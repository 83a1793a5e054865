// Package provisioning holds Grafana's provisioning files: the Loki data
// source, the app's settings and the dashboards. Its test checks the
// Activity overview dashboard: its JSON strictly, its LogQL against the
// product's own compiler and the embedded store seeded with the fixture data
// set, and its links against the two link shapes of ARCHITECTURE.md.
package provisioning

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/deploy/compose"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/activityaudit/activityaudit/pkg/link"
)

const (
	dashboardPath = "dashboards/activity-overview.json"
	providerPath  = "dashboards/activityaudit.yaml"
	dataSourceUID = "activityaudit-loki"
)

// The dashboard JSON as far as this test reads it. Unknown keys are errors
// down to the panels' targets and links; visualisation options and field
// defaults other than links are Grafana's business (kept raw).
type dashboard struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Tags          []string `json:"tags"`
	Timezone      string   `json:"timezone"`
	Editable      bool     `json:"editable"`
	GraphTooltip  int      `json:"graphTooltip"`
	SchemaVersion int      `json:"schemaVersion"`
	Version       int      `json:"version"`
	Refresh       string   `json:"refresh"`
	Time          struct{ From, To string }
	Links         []dashLink `json:"links"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type dashLink struct {
	Title       string   `json:"title"`
	Type        string   `json:"type"`
	URL         string   `json:"url"`
	Icon        string   `json:"icon"`
	KeepTime    bool     `json:"keepTime"`
	IncludeVars bool     `json:"includeVars"`
	TargetBlank bool     `json:"targetBlank"`
	AsDropdown  bool     `json:"asDropdown"`
	Tags        []string `json:"tags"`
}

type dataSource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name        string      `json:"name"`
	Label       string      `json:"label"`
	Description string      `json:"description"`
	Type        string      `json:"type"`
	Datasource  *dataSource `json:"datasource"`
	Query       struct {
		RefID  string `json:"refId"`
		Type   int    `json:"type"` // Loki's LokiVariableQueryType: 1 = label values
		Label  string `json:"label"`
		Stream string `json:"stream"`
	} `json:"query"`
	Definition string `json:"definition"`
	IncludeAll bool   `json:"includeAll"`
	AllValue   string `json:"allValue"`
	Multi      bool   `json:"multi"`
	Refresh    int    `json:"refresh"`
	Sort       int    `json:"sort"`
	Regex      string `json:"regex"`
	Hide       int    `json:"hide"`
	Current    struct {
		Text  string `json:"text"`
		Value string `json:"value"`
	} `json:"current"`
}

type panel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	GridPos     struct{ H, W, X, Y int }
	Datasource  *dataSource `json:"datasource"`
	Targets     []target    `json:"targets"`
	// Transformations are Grafana's; only filterFieldsByName is read.
	Transformations []struct {
		ID      string          `json:"id"`
		Options json.RawMessage `json:"options"`
	} `json:"transformations"`
	FieldConfig *struct {
		Defaults  map[string]json.RawMessage `json:"defaults"`
		Overrides []struct {
			Matcher struct {
				ID      string          `json:"id"`
				Options json.RawMessage `json:"options"`
			} `json:"matcher"`
			Properties []struct {
				ID    string          `json:"id"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
	Options json.RawMessage `json:"options"`
	Links   []dataLink      `json:"links"`
}

type target struct {
	RefID        string      `json:"refId"`
	Datasource   *dataSource `json:"datasource"`
	EditorMode   string      `json:"editorMode"`
	QueryType    string      `json:"queryType"` // range or instant
	Expr         string      `json:"expr"`
	LegendFormat string      `json:"legendFormat"`
	MaxLines     int         `json:"maxLines"`
}

type dataLink struct {
	Title       string `json:"title"`
	URL         string `json:"url"`
	TargetBlank bool   `json:"targetBlank"`
}

func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s: data after the dashboard", path)
	}
}

func loadDashboard(t *testing.T) *dashboard {
	t.Helper()
	var d dashboard
	decodeStrict(t, dashboardPath, &d)
	return &d
}

// dataLinks are a panel's data links: its field defaults' and overrides'.
func (p *panel) dataLinks(t *testing.T) []dataLink {
	t.Helper()
	if p.FieldConfig == nil {
		return nil
	}
	var all []dataLink
	decode := func(raw json.RawMessage) {
		var ls []dataLink
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ls); err != nil {
			t.Fatalf("panel %q: links: %v", p.Title, err)
		}
		all = append(all, ls...)
	}
	if raw, ok := p.FieldConfig.Defaults["links"]; ok {
		decode(raw)
	}
	for _, o := range p.FieldConfig.Overrides {
		for _, prop := range o.Properties {
			if prop.ID == "links" {
				decode(prop.Value)
			}
		}
	}
	return all
}

// tableFields are the fields a filterFieldsByName transformation keeps (nil
// when the panel has none).
func (p *panel) tableFields(t *testing.T) []string {
	t.Helper()
	for _, tr := range p.Transformations {
		if tr.ID != "filterFieldsByName" {
			continue
		}
		var o struct {
			Include struct {
				Names []string `json:"names"`
			} `json:"include"`
		}
		if err := json.Unmarshal(tr.Options, &o); err != nil {
			t.Fatalf("panel %q: filterFieldsByName: %v", p.Title, err)
		}
		return o.Include.Names
	}
	return nil
}

func TestDashboard(t *testing.T) {
	d := loadDashboard(t)
	if d.UID != "activityaudit-overview" || d.Title != "Activity overview" {
		t.Errorf("uid %q title %q, want activityaudit-overview, Activity overview", d.UID, d.Title)
	}
	if d.SchemaVersion < 41 {
		t.Errorf("schemaVersion %d: want Grafana 12's (41 or later)", d.SchemaVersion)
	}
	want := []string{"Activity by source", "Top namespaces", "Top workloads", "Top commands", "Recent kube execs", "Falco alerts"}
	var titles []string
	ids := map[int]bool{}
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d missing or repeated", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside Grafana's 24 columns", p.Title, p.GridPos)
		}
		if p.Datasource == nil || *p.Datasource != (dataSource{"loki", dataSourceUID}) {
			t.Errorf("panel %q: datasource %+v, want loki %s", p.Title, p.Datasource, dataSourceUID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || *tg.Datasource != (dataSource{"loki", dataSourceUID}) {
				t.Errorf("panel %q query %s: datasource %+v, want loki %s", p.Title, tg.RefID, tg.Datasource, dataSourceUID)
			}
			if tg.QueryType != "range" && tg.QueryType != "instant" {
				t.Errorf("panel %q query %s: queryType %q", p.Title, tg.RefID, tg.QueryType)
			}
		}
	}
	if !slices.Equal(titles, want) {
		t.Errorf("panels %q, want %q", titles, want)
	}
	for _, v := range d.Templating.List {
		if v.Datasource == nil || *v.Datasource != (dataSource{"loki", dataSourceUID}) {
			t.Errorf("variable %s: datasource %+v, want loki %s", v.Name, v.Datasource, dataSourceUID)
		}
	}
	ns := namespaceVar(t, d)
	if !ns.IncludeAll || ns.AllValue != ".*" || ns.Multi || ns.Current.Value != "$__all" {
		t.Errorf("namespace variable: includeAll %v allValue %q multi %v current %q; want a single value with All (.*) selected",
			ns.IncludeAll, ns.AllValue, ns.Multi, ns.Current.Value)
	}
	if ns.Query.Type != 1 || ns.Query.Label != "namespace" {
		t.Errorf("namespace variable: query %+v, want the label values (type 1) of namespace", ns.Query)
	}

	t.Run("the data source is the provisioned one", func(t *testing.T) {
		var ds struct {
			Datasources []struct {
				Name, Type, UID, URL string
			}
		}
		readYAML(t, filepath.Join("datasources", "loki.yaml"), &ds, false)
		for _, s := range ds.Datasources {
			if s.UID == dataSourceUID && s.Type == "loki" {
				return
			}
		}
		t.Errorf("datasources/loki.yaml provisions no loki data source with uid %s", dataSourceUID)
	})
	t.Run("Falco alerts use the app's policy selector", func(t *testing.T) {
		p := panelNamed(t, d, "Falco alerts")
		if got, want := p.Targets[0].Expr, policySelector(t); got != want {
			t.Errorf("query %q, want the app's policySelector %q", got, want)
		}
	})
	t.Run("panel and dashboard links open the app", func(t *testing.T) {
		check := func(what, raw string) {
			u, err := url.Parse(raw)
			if err != nil {
				t.Errorf("%s: %v", what, err)
				return
			}
			page, ok := strings.CutPrefix(u.Path, link.AppPath+"/")
			if !ok || (page != "audit" && page != "policy-events") {
				t.Errorf("%s: %q is not the app's audit or policy events page", what, raw)
			}
			for k, v := range u.Query() {
				if want := map[string]string{"from": "${__from}", "to": "${__to}"}[k]; len(v) != 1 || v[0] != want {
					t.Errorf("%s: parameter %s=%q", what, k, v)
				}
			}
		}
		for _, l := range d.Links {
			if l.Type != "link" || !l.KeepTime {
				t.Errorf("dashboard link %q: type %q keepTime %v, want a link keeping the time range", l.Title, l.Type, l.KeepTime)
			}
			check("dashboard link "+l.Title, l.URL)
		}
		for _, p := range d.Panels {
			for _, l := range p.Links {
				check("panel "+p.Title+" link "+l.Title, l.URL)
			}
		}
	})
}

func namespaceVar(t *testing.T, d *dashboard) variable {
	t.Helper()
	for _, v := range d.Templating.List {
		if v.Name == "namespace" {
			return v
		}
	}
	t.Fatal("no namespace variable")
	return variable{}
}

func panelNamed(t *testing.T, d *dashboard, title string) *panel {
	t.Helper()
	for i := range d.Panels {
		if d.Panels[i].Title == title {
			return &d.Panels[i]
		}
	}
	t.Fatalf("no panel %q", title)
	return nil
}

func readYAML(t *testing.T, path string, v any, strict bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(strict)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func policySelector(t *testing.T) string {
	t.Helper()
	var app struct {
		Apps []struct {
			Type     string
			JSONData map[string]any `yaml:"jsonData"`
		}
	}
	readYAML(t, filepath.Join("plugins", "activityaudit-app.yaml"), &app, false)
	for _, a := range app.Apps {
		if a.Type == "activityaudit-app" {
			if s, ok := a.JSONData["policySelector"].(string); ok {
				return s
			}
		}
	}
	t.Fatal("plugins/activityaudit-app.yaml: no policySelector")
	return ""
}

// TestProvider checks the dashboard provider: Grafana finds the dashboard
// at the provider's path as docker-compose.yml mounts ./provisioning.
func TestProvider(t *testing.T) {
	var cfg struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name                  string `yaml:"name"`
			OrgID                 int    `yaml:"orgId"`
			Folder                string `yaml:"folder"`
			Type                  string `yaml:"type"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path                      string `yaml:"path"`
				FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, providerPath, &cfg, true)
	if cfg.APIVersion != 1 || len(cfg.Providers) != 1 {
		t.Fatalf("apiVersion %d, %d providers: want 1 and 1", cfg.APIVersion, len(cfg.Providers))
	}
	pr := cfg.Providers[0]
	if pr.Type != "file" || pr.OrgID != 1 {
		t.Errorf("provider type %q org %d, want file, 1", pr.Type, pr.OrgID)
	}

	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	project, err := compose.Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	grafana, err := project.GetService("grafana")
	if err != nil {
		t.Fatal(err)
	}
	// The host directory the provider's path is in (the longest mount
	// that holds it).
	var host string
	best := -1
	for _, v := range grafana.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		rel, err := filepath.Rel(v.Target, pr.Options.Path)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || len(v.Target) <= best {
			continue
		}
		host, best = filepath.Join(v.Source, rel), len(v.Target)
	}
	if host == "" {
		t.Fatalf("docker-compose.yml mounts nothing at %s in grafana", pr.Options.Path)
	}
	want, err := filepath.Abs(filepath.Dir(dashboardPath))
	if err != nil {
		t.Fatal(err)
	}
	if host != want {
		t.Errorf("the provider reads %s, which is %s on the host; the dashboard is in %s", pr.Options.Path, host, want)
	}
}
