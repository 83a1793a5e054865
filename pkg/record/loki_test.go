package record

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/loki"
)

type lokiCase struct {
	Name    string `json:"name"`
	Request struct {
		Path    string            `json:"path"`
		Params  map[string]string `json:"params"`
		Headers map[string]string `json:"headers"`
	} `json:"request"`
	Response struct {
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	} `json:"response"`
}

// readLokiCases reads the answers recorded from the real Loki.
func readLokiCases(t *testing.T) []lokiCase {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/loki/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []lokiCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// streamCases decodes every streams answer recorded from the real Loki.
func streamCases(t *testing.T) map[string][]Record {
	t.Helper()
	out := map[string][]Record{}
	for _, c := range readLokiCases(t) {
		if c.Response.Status != 200 || c.Request.Path != "/loki/api/v1/query_range" {
			continue
		}
		var resp loki.QueryResponse
		if err := json.Unmarshal(c.Response.Body, &resp); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if resp.Data.ResultType != loki.ResultTypeStreams {
			continue
		}
		dir := loki.Direction(c.Request.Params["direction"])
		if dir == "" {
			dir = loki.Backward
		}
		recs, err := FromStreams(resp.Data.Streams, dir)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		out[c.Name] = recs
	}
	return out
}

func TestFromStreamsEveryRecordedAnswer(t *testing.T) {
	got := streamCases(t)
	if len(got) < 15 {
		t.Fatalf("decoded %d stream answers, want every one of cases.json (at least 15)", len(got))
	}
	for name, recs := range got {
		t.Run(name, func(t *testing.T) {
			if name != "time-window-end-exclusive" && len(recs) == 0 {
				t.Fatal("no records")
			}
			for i, r := range recs {
				if r.Source == "" || r.Host == "" || r.Cluster != "demo" || r.Time == 0 {
					t.Errorf("record %d lacks its labels: %+v", i, r)
				}
				if _, ok := field.ParseSource(string(r.Source)); !ok {
					t.Errorf("record %d: source %q", i, r.Source)
				}
				if r.Source != field.KubeExec && r.ExecID == "" {
					t.Errorf("record %d: no exec_id from structured metadata", i)
				}
			}
		})
	}
}

func TestFromStreamsBothFormsAgree(t *testing.T) {
	got := streamCases(t)
	for _, pair := range [][2]string{
		{"include-body-field", "include-body-field-uncategorized"},
		{"trace-session", "trace-session-uncategorized"},
	} {
		t.Run(pair[0], func(t *testing.T) {
			a, b := got[pair[0]], got[pair[1]]
			if len(a) == 0 || len(a) != len(b) {
				t.Fatalf("%d vs %d records", len(a), len(b))
			}
			for i := range a {
				if a[i] != b[i] {
					t.Errorf("record %d differs:\n%+v\n%+v", i, a[i], b[i])
				}
			}
		})
	}
}

func TestFromStreamsTraceSession(t *testing.T) {
	recs := streamCases(t)["trace-session"]
	var kinds = map[field.Source]int{}
	for i, r := range recs {
		kinds[r.Source]++
		if i > 0 && recs[i-1].Time > r.Time {
			t.Errorf("forward answer not in time order at %d", i)
		}
		if r.Session != "node-a:1795687500000000000:9001" || r.K8sUser != "johndoe" {
			t.Errorf("record %d: session %q user %q", i, r.Session, r.K8sUser)
		}
	}
	if kinds[field.KubeExec] != 1 || kinds[field.Cmd] != 3 || kinds[field.Net] != 1 {
		t.Errorf("sources = %v, want 1 kube_exec, 3 cmd, 1 net", kinds)
	}
	exec := recs[0]
	want := Record{
		Time: 1795687500000000000, Source: field.KubeExec, Cluster: "demo", Host: "node-a", Namespace: "shop", Workload: "woocommerce",
		WorkloadKind: "Deployment", Pod: "woocommerce-6877958-x2b4q", Container: "php", ContainerID: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
		Session: "node-a:1795687500000000000:9001", Resource: "pods", Name: "woocommerce-6877958-x2b4q", Subresource: "exec", Command: "bash",
		K8sUser: "johndoe", K8sGroups: "system:authenticated,dev", UserAgent: "kubectl/v1.33.1 (linux/amd64) kubernetes/abc",
		SourceAddresses: "203.0.113.7", AuditID: "00c8decc-b988-4086-908b-fe8ec37b9380", ResponseCode: 101, ExecStdin: true, ExecTTY: true,
	}
	if exec != want {
		t.Errorf("kube exec record\n got %+v\nwant %+v", exec, want)
	}
}

func TestFromStreamsOrder(t *testing.T) {
	recs := streamCases(t)["list-source-backward"]
	for i := 1; i < len(recs); i++ {
		if recs[i-1].Time < recs[i].Time {
			t.Fatalf("backward answer not newest first at %d", i)
		}
	}
}
