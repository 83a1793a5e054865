package activityaudit

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/link"
)

func TestParseConfigDefaults(t *testing.T) {
	for _, text := range []string{"", "  ", "{}", `{"lokiURL":"","pageSize":0}`, "null"} {
		cfg, err := ParseConfig(text)
		if err != nil {
			t.Fatalf("ParseConfig(%q): %v", text, err)
		}
		if !reflect.DeepEqual(cfg, DefaultConfig()) {
			t.Errorf("ParseConfig(%q) = %+v, want the defaults", text, cfg)
		}
	}
	s, err := DefaultConfig().validate()
	if err != nil {
		t.Fatal(err)
	}
	if s.loki.URL != DefaultLokiURL || s.grafanaURL != DefaultGrafanaURL || s.poll != time.Second ||
		s.delay != 5*time.Second || s.pageSize != 1000 || s.window != link.DefaultWindow || s.loki.Timeout != 30*time.Second {
		t.Errorf("default settings = %+v", s)
	}
	if s.query != `{job="activity-audit"}` {
		t.Errorf("default query = %s", s.query)
	}
}

func TestParseConfigFull(t *testing.T) {
	text := `{"lokiURL":"https://loki.example.com/prefix","tenant":"acme","username":"u","password":"p",
		"grafanaURL":"https://g.example.com/grafana/","filter":"namespace!=\"kube-system\" comm=\"bash\"",
		"sources":["cmd","net","cmd"],"start":"now-1h","cursorFile":"/var/lib/falco/aa.cursor",
		"pollInterval":"250ms","delay":"0s","pageSize":5000,"timeout":"1m","linkBefore":"2h","linkAfter":"1d"}`
	cfg, err := ParseConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.validate()
	if err != nil {
		t.Fatal(err)
	}
	if s.loki.URL != "https://loki.example.com/prefix" || s.loki.Tenant != "acme" || s.loki.Username != "u" || s.loki.Password != "p" {
		t.Errorf("loki = %+v", s.loki)
	}
	if s.grafanaURL != "https://g.example.com/grafana" {
		t.Errorf("grafanaURL = %s", s.grafanaURL)
	}
	if !slices.Equal(s.scope.Sources, []field.Source{field.Cmd, field.Net}) {
		t.Errorf("sources = %v", s.scope.Sources)
	}
	want := `{job="activity-audit", source=~"cmd|net", namespace!="kube-system"} | json comm | comm="bash"`
	if s.query != want {
		t.Errorf("query\n got  %s\n want %s", s.query, want)
	}
	if s.poll != 250*time.Millisecond || s.delay != 0 || s.pageSize != 5000 || s.loki.Timeout != time.Minute ||
		s.window != (link.Window{Before: 2 * time.Hour, After: 24 * time.Hour}) || s.cursorFile != "/var/lib/falco/aa.cursor" || s.start != "now-1h" {
		t.Errorf("settings = %+v", s)
	}
}

// A bad configuration is an error from Init that names the setting.
func TestInitBadConfig(t *testing.T) {
	tests := []struct{ config, want string }{
		{`{`, "parse config"},
		{`{"lokiUrl":"http://x"}`, `unknown key "lokiUrl" (did you mean "lokiURL"?)`},
		{`{"lokiurl":"http://x","nope":1}`, `unknown key`},
		{`[1]`, "parse config"},
		{`{"pageSize":"many"}`, "pageSize: want a number"},
		{`{"sources":"cmd"}`, "sources: want a list"},
		{`{} {}`, "text after the JSON object"},
		{`{"lokiURL":"ftp://loki"}`, `lokiURL: parse loki url: scheme "ftp" is not http or https`},
		{`{"lokiURL":"http://u:p@loki"}`, "lokiURL: parse loki url: url must not hold credentials"},
		{`{"username":"u","bearerToken":"t"}`, "lokiURL: configure loki auth: basic auth and bearer token are mutually exclusive"},
		{`{"grafanaURL":"grafana:3000"}`, `grafanaURL: scheme "grafana" is not http or https`},
		{`{"grafanaURL":"http://g/?x=1"}`, "grafanaURL: url must not have a query"},
		{`{"filter":"comn=\"bash\""}`, `filter: `},
		{`{"filter":"comm=\"bash"}`, "filter: "},
		{`{"sources":["cmd","exec"]}`, `sources: unknown source "exec" (want cmd, net, kube_exec)`},
		{`{"start":"yesterday"}`, `start: parse time "yesterday"`},
		{`{"pollInterval":"0s"}`, "pollInterval: must be more than 0"},
		{`{"pollInterval":"1 second"}`, "pollInterval: bad duration"},
		{`{"delay":"-1s"}`, "delay: bad duration"},
		{`{"timeout":"0ms"}`, "timeout: must be more than 0"},
		{`{"linkBefore":"1y"}`, `linkBefore: bad duration "1y": unknown unit "y"`},
		{`{"pageSize":-1}`, "pageSize: -1 is not between 1 and 5000"},
		{`{"pageSize":5001}`, "pageSize: 5001 is not between 1 and 5000"},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			err := New().Init(tt.config)
			if err == nil {
				t.Fatalf("Init(%s) succeeded", tt.config)
			}
			if !strings.HasPrefix(err.Error(), "init activityaudit: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Init(%s) = %v, want an error containing %q", tt.config, err, tt.want)
			}
		})
	}
}

func TestFilterErrorNamesTheField(t *testing.T) {
	err := New().Init(`{"filter":"comn=\"bash\""}`)
	if err == nil || !strings.Contains(err.Error(), "comm") {
		t.Errorf("Init with a misspelt field = %v, want the closest field named", err)
	}
}

// The schema describes exactly the keys of Config, with the defaults.
func TestSchemaMatchesConfig(t *testing.T) {
	var schema struct {
		Type                 string `json:"type"`
		AdditionalProperties bool   `json:"additionalProperties"`
		Properties           map[string]struct {
			Type        string `json:"type"`
			Default     any    `json:"default"`
			Description string `json:"description"`
		} `json:"properties"`
	}
	if err := json.Unmarshal([]byte(ConfigSchema()), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if schema.Type != "object" || schema.AdditionalProperties {
		t.Errorf("schema is type %q, additionalProperties %v: want a closed object", schema.Type, schema.AdditionalProperties)
	}
	def, err := json.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var defaults map[string]any
	if err := json.Unmarshal(def, &defaults); err != nil {
		t.Fatal(err)
	}
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		key := f.Tag.Get("json")
		p, ok := schema.Properties[key]
		if !ok {
			t.Errorf("schema has no property %s", key)
			continue
		}
		wantType := map[reflect.Kind]string{reflect.String: "string", reflect.Int: "integer", reflect.Slice: "array"}[f.Type.Kind()]
		if p.Type != wantType {
			t.Errorf("%s: schema type %s, want %s", key, p.Type, wantType)
		}
		d := defaults[key]
		if d == nil {
			d = []any{}
		}
		if !reflect.DeepEqual(p.Default, d) {
			t.Errorf("%s: schema default %#v, config default %#v", key, p.Default, d)
		}
		if p.Description == "" {
			t.Errorf("%s: no description", key)
		}
	}
	if len(schema.Properties) != ct.NumField() {
		t.Errorf("schema has %d properties, Config %d fields", len(schema.Properties), ct.NumField())
	}
}
