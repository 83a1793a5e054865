package cli

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

func TestQuery(t *testing.T) {
	base := startStore(t, activity())
	tests := []cliCase{
		{"all sources", []string{"query", fromFlag, toFlag}, 0},
		{"commands", []string{"query", "--sources=cmd", fromFlag, toFlag}, 0},
		{"connections", []string{"query", "--sources=net", fromFlag, toFlag}, 0},
		{"kube execs", []string{"query", "--sources=kube_exec", fromFlag, toFlag}, 0},
		{"include label and body field", []string{"query", `namespace="shop" comm="curl"`, fromFlag, toFlag}, 0},
		{"exclude", []string{"query", "--sources=cmd", `user!="root"`, fromFlag, toFlag}, 0},
		{"several includes of one field", []string{"query", `comm="nginx" comm="postgres"`, "--sources=cmd,net", fromFlag, toFlag}, 0},
		{"regex on the command line", []string{"query", `cmdline=~".*python3? .*"`, fromFlag, toFlag}, 0},
		{"metadata field", []string{"query", `pod="db-0"`, fromFlag, toFlag}, 0},
		{"session", []string{"query", `session="` + session + `"`, "--sources=net", fromFlag, toFlag}, 0},
		{"failed connections", []string{"query", `result!=""`, fromFlag, toFlag}, 0},
		{"limit hit", []string{"query", "--limit=3", fromFlag, toFlag}, 0},
		{"nothing matches", []string{"query", `comm="nmap"`, fromFlag, toFlag}, 0},
		{"time range", []string{"query", "--from=2026-11-26T10:00:06Z", "--to=2026-11-26T10:00:09Z"}, 0},
		{"link", []string{"query", "--sources=cmd,kube_exec", `namespace="shop" comm!="bash"`, "--link", "--grafana-url=https://grafana.example.com/", fromFlag, toFlag}, 0},
		{"control characters are escaped", []string{"query", `host="node-a" pod=""`, "--sources=cmd", fromFlag, toFlag}, 0},
		{"invalid filter", []string{"query", `namespace="shop" cmd="curl"`, fromFlag, toFlag}, 2},
		{"unterminated string", []string{"query", `comm="curl`, fromFlag, toFlag}, 2},
		{"bad limit", []string{"query", "--limit=0"}, 2},
		{"two filters", []string{"query", `comm="a"`, `comm="b"`}, 2},
		{"empty range", []string{"query", toFlag, "--from=2026-11-26T12:00:00Z"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runGolden(t, base, "query", tt) })
	}
}

// TestQueryJSON decodes the NDJSON output back into records: they are the
// seeded records, newest first, every field kept.
func TestQueryJSON(t *testing.T) {
	recs := activity()
	base := startStore(t, recs)
	tests := []struct {
		name string
		args []string
		keep func(r *record.Record) bool
	}{
		{"all", nil, func(*record.Record) bool { return true }},
		{"session connections", []string{"--sources=net", `session="` + session + `"`}, func(r *record.Record) bool {
			return r.Source == field.Net && r.Session == session
		}},
		{"kube execs", []string{"--sources=kube_exec"}, func(r *record.Record) bool { return r.Source == field.KubeExec }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"query", "--json", fromFlag, toFlag, "--loki-url", base}, tt.args...)
			code, out, errOut := run(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var want []record.Record
			for i := range recs {
				if tt.keep(&recs[i]) {
					want = append(want, recs[i])
				}
			}
			slices.SortStableFunc(want, func(a, b record.Record) int { return cmp.Compare(b.Time, a.Time) })
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(want) {
				t.Fatalf("%d lines, want %d records:\n%s", len(lines), len(want), out)
			}
			for i, line := range lines {
				got := decodeFlat(t, line)
				if got != want[i] {
					t.Errorf("line %d:\n got %+v\nwant %+v", i+1, got, want[i])
				}
			}
		})
	}
}

// decodeFlat reads a record from the flat JSON object --json prints: time
// as RFC 3339, label and metadata fields as strings, body fields as in the
// line body.
func decodeFlat(t *testing.T, line string) record.Record {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, line)
	}
	ts, err := time.Parse(time.RFC3339Nano, m["time"].(string))
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for k, v := range m {
		if f, ok := field.Lookup(k); ok && (f.Role == field.Label || f.Role == field.Metadata) {
			labels[k] = v.(string)
		}
	}
	r, err := record.Decode(ts.UnixNano(), labels, nil, line)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestQueryNoStore(t *testing.T) {
	code, _, errOut := run("query", "--loki-url=http://127.0.0.1:1", "--since=1h")
	if code != ExitError || !strings.Contains(errOut, "query loki") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
