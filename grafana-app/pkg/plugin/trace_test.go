package plugin_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/api"
)

const (
	fixtureSession = "node-a:1795687500000000000:9001"
	fixtureAudit   = "00c8decc-b988-4086-908b-fe8ec37b9380"
)

// traceAnswer decodes the records of a trace answer.
type traceAnswer struct {
	api.TraceAnswer
	KubeExec  map[string]string `json:"kube_exec"`
	Processes []*traceProcess   `json:"processes"`
}

type traceProcess struct {
	Record      map[string]string   `json:"record"`
	Entry       bool                `json:"entry"`
	Connections []map[string]string `json:"connections"`
	Children    []*traceProcess     `json:"children"`
}

func TestTraceOfTheFixtureSession(t *testing.T) {
	in := newInstance(t, datasetStore(t), nil)
	tests := []struct {
		name, id string
	}{
		{"by session", fixtureSession},
		{"by the kube exec's audit id", fixtureAudit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans traceAnswer
			in.get(t, q("/trace/"+url.PathEscape(tt.id), "from", at1000, "to", at1020), &ans)
			if ans.Session != fixtureSession || ans.Status != api.StatusKnown || ans.User != "johndoe" {
				t.Errorf("session %q status %q user %q; want %s known johndoe", ans.Session, ans.Status, ans.User, fixtureSession)
			}
			if ans.KubeExec["k8s_user"] != "johndoe" || ans.KubeExec["audit_id"] != fixtureAudit || ans.KubeExec["source_addresses"] != "203.0.113.7" {
				t.Errorf("kube exec %v", ans.KubeExec)
			}
			if ans.Commands != 3 || ans.Connections != 1 {
				t.Errorf("%d commands, %d connections; want 3 and 1", ans.Commands, ans.Connections)
			}
			var cmdlines []string
			conns := 0
			var walk func(ps []*traceProcess)
			walk = func(ps []*traceProcess) {
				for _, p := range ps {
					cmdlines = append(cmdlines, p.Record["cmdline"])
					for _, c := range p.Connections {
						conns++
						if c["server_ip"] != "10.0.1.5" || c["server_port"] != "80" || p.Record["comm"] != "ab" {
							t.Errorf("connection %v under %s", c, p.Record["comm"])
						}
					}
					walk(p.Children)
				}
			}
			walk(ans.Processes)
			if got := strings.Join(cmdlines, " | "); got != "bash | apt-get install -y apache2-utils | ab -n 10000 -c 50 http://10.0.1.5/" || conns != 1 {
				t.Errorf("commands %q, %d connections", got, conns)
			}
			if !ans.Processes[0].Entry {
				t.Error("the entry process is not first")
			}
			if ans.Start != "1795687500000000000" || ans.End != "1795687516000000000" {
				t.Errorf("span %s to %s", ans.Start, ans.End)
			}
		})
	}
	t.Run("golden", func(t *testing.T) {
		golden(t, "trace", in.get(t, q("/trace/"+fixtureSession, "from", at1000, "to", at1020), nil))
	})
	t.Run("who", func(t *testing.T) {
		var ans struct {
			api.WhoAnswer
			KubeExec map[string]string `json:"kube_exec"`
		}
		in.get(t, q("/who", "session", fixtureSession, "from", "1795687510000", "to", at1020), &ans)
		k := ans.KubeExec
		if ans.Status != api.StatusKnown || ans.User != "johndoe" || k["audit_id"] != fixtureAudit {
			t.Errorf("who: %+v", ans)
		}
		if !strings.HasPrefix(ans.Trace, grafanaURL+"/a/activityaudit-app/trace/node-a:1795687500000000000:9001?from=1795683910000&to="+at1020) {
			t.Errorf("trace link %s", ans.Trace)
		}
	})
	t.Run("unknown ids", func(t *testing.T) {
		for _, id := range []string{"node-z:1:1", "11111111-2222-3333-4444-555555555555"} {
			status, body := in.call(t, "Editor", q("/trace/"+id, "from", at1000, "to", at1020))
			if status != http.StatusNotFound || !strings.Contains(string(body), `"kind":"not_found"`) {
				t.Errorf("%s: %d %s", id, status, body)
			}
		}
	})
}

// Answers are built from pooled records and buffers: requests at the same
// time must not see each other's. Each answer, under concurrent load,
// equals the one given alone.
func TestConcurrentAnswersAreTheirOwn(t *testing.T) {
	in := newInstance(t, datasetStore(t), nil)
	paths := []string{
		q("/trace/"+fixtureSession, "from", at1000, "to", at1020),
		q("/who", "session", fixtureSession, "from", "1795687510000", "to", at1020),
		q("/events", "from", at1000, "to", at1020, "limit", "7"),
		q("/events", "from", at1000, "to", at1020, "filter", `source="net"`),
		q("/policy-events", "from", at1000, "to", at1020),
	}
	alone := make([]string, len(paths))
	for i, p := range paths {
		alone[i] = string(in.get(t, p, nil))
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for n := range 30 {
				i := (g + n) % len(paths)
				status, body := in.call(t, "Editor", paths[i])
				if status != 200 || string(body) != alone[i] {
					t.Errorf("%s under load: %d\n%s\nwant\n%s", paths[i], status, body, alone[i])
					return
				}
			}
		})
	}
	wg.Wait()
}
