package plugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/api"
	"github.com/activityaudit/activityaudit/grafana-app/pkg/plugin"
	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/store/storetest"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func TestValues(t *testing.T) {
	in := newInstance(t, datasetStore(t), nil)
	entries := readDataset(t)
	count := func(name string, m match) map[string]int64 {
		out := map[string]int64{}
		for _, e := range entries {
			if v := e.Get(name); v != "" && m(e) {
				out[v]++
			}
		}
		return out
	}
	tests := []struct {
		name, field string
		query       []string
		want        map[string]int64
	}{
		{"metadata field", "pod", nil, count("pod", all)},
		{"body field in scope", "comm", []string{"sources", "net", "filter", `host="node-b"`}, count("comm", and(eq("source", "net"), eq("host", "node-b")))},
		{"prefix", "pod", []string{"prefix", "woocommerce-"}, count("pod", func(e datasetEntry) bool { return strings.HasPrefix(e.Get("pod"), "woocommerce-") })},
		{"prefix is not a regex", "pod", []string{"prefix", "woo.*"}, map[string]int64{}},
		{"label field", "namespace", []string{"limit", "1"}, map[string]int64{"shop": 72}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans api.ValuesAnswer
			in.get(t, q("/values/"+tt.field, append([]string{"from", at1000, "to", at1020}, tt.query...)...), &ans)
			got := map[string]int64{}
			for i, v := range ans.Values {
				got[v.Value] = v.Count
				if v.Term != fmt.Sprintf("%s=%q", tt.field, v.Value) {
					t.Errorf("term %s", v.Term)
				}
				if i > 0 && ans.Values[i-1].Count < v.Count {
					t.Errorf("not sorted by count")
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("\n got %v\nwant %v", got, tt.want)
			}
		})
	}
	t.Run("golden", func(t *testing.T) {
		golden(t, "values-comm", in.get(t, q("/values/comm", "from", at1000, "to", at1020, "limit", "5"), nil))
	})
}

func TestFieldsAreTheRegistry(t *testing.T) {
	in := newInstance(t, "http://127.0.0.1:1", nil) // needs no Loki
	var ans api.FieldsAnswer
	body := in.get(t, "/fields", &ans)
	golden(t, "fields", body)
	if len(ans.Fields) != len(field.All()) || len(ans.Sources) != len(field.Sources) {
		t.Fatalf("%d fields, %d sources", len(ans.Fields), len(ans.Sources))
	}
	for i, f := range field.All() {
		if g := ans.Fields[i]; g.Name != f.Name || g.Type != f.Type || g.Description != f.Description || g.Filterable != f.Filterable() {
			t.Errorf("field %d: %+v, registry %+v", i, g, f)
		}
	}
}

func TestCheckHealth(t *testing.T) {
	now := time.Now()
	recent := []record.Record{{Time: now.Add(-time.Minute).UnixNano(), Source: field.Cmd, Host: "n", Comm: "sh", Cmdline: "sh"}}
	withData := storetest.Start(t, recent)
	withAlerts := storetest.Start(t, recent)
	pushSidekick(t, withAlerts, "loki-text.json") // alerts of 2026-11-26 only count when they are recent
	empty := storetest.Start(t, nil)
	down, stop := stoppableStore(t)
	stop()
	tests := []struct {
		name     string
		url      string
		settings map[string]any
		status   backend.HealthStatus
		activity bool
		message  string
	}{
		{"activity", withData, nil, backend.HealthStatusOk, true, "newest activity " + now.Add(-time.Minute).UTC().Format("2006-01-02T15:04")},
		{"empty store", empty, nil, backend.HealthStatusOk, false, "holds no activity"},
		{"store down", down, nil, backend.HealthStatusError, false, "does not answer"},
		{"bad selector", withAlerts, map[string]any{"policySelector": `{rule=~"("}`}, backend.HealthStatusError, true, "policy events selector"},
		{"bad settings", withData, map[string]any{"lokiAuth": "kerberos"}, backend.HealthStatusError, false, `lokiAuth "kerberos"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInstance(t, tt.url, tt.settings)
			res, err := in.app.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var h plugin.Health
			if len(res.JSONDetails) > 0 {
				if err := json.Unmarshal(res.JSONDetails, &h); err != nil {
					t.Fatal(err)
				}
			}
			if res.Status != tt.status || h.Activity != tt.activity || !strings.Contains(res.Message, tt.message) {
				t.Errorf("%v %+v %q", res.Status, h, res.Message)
			}
		})
	}
}

func TestMisconfiguredAppSaysWhy(t *testing.T) {
	in := newInstance(t, "http://127.0.0.1:1", map[string]any{"lokiAuth": "bearer"})
	status, body := in.call(t, "Admin", "/events")
	if status != 500 || !strings.Contains(string(body), "bearer auth needs the secret lokiBearerToken") {
		t.Errorf("%d %s", status, body)
	}
	if status, _ := in.call(t, "Viewer", "/events"); status != 403 {
		t.Errorf("a Viewer gets %d from a misconfigured app, want 403", status)
	}
}
