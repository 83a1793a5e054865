package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// pools of values random records and filters draw from, small enough that
// filters often match.
var pools = map[string][]string{
	"cluster": {"demo", "prod"}, "host": {"node-a", "node-b"}, "namespace": {"", "shop", "kube-system"},
	"workload": {"", "web", "db"}, "pod": {"", "web-1", "db-0"}, "container": {"", "php", "mysql"},
	"container_id": {"", strings.Repeat("a1", 32), strings.Repeat("c3", 32)}, "image": {"", "app:1.0"},
	"comm": {"bash", "sh", "curl", "grep", "cat"}, "exe": {"/bin/bash", "/usr/bin/curl"},
	"cmdline": {"bash", "curl -s http://x/", "grep -r \"a b\" /etc", "sh -c 'ls\n-l'", "cat é"},
	"cwd":     {"/", "/tmp", ""}, "user": {"root", "www-data", ""}, "tty": {"", "pts/0"},
	"session": {"", "node-a:1:1", "node-a:2:2"}, "direction": {"in", "out"}, "l4proto": {"tcp", "udp"},
	"client_ip": {"10.0.0.1", "::1"}, "server_ip": {"10.0.0.2", "fd00::2"}, "resource": {"pods"},
	"name": {"web-1", "db-0"}, "subresource": {"exec", "attach"}, "command": {"bash", "sh -c id"},
	"k8s_user": {"", "johndoe", "system:serviceaccount:x:y"}, "k8s_groups": {"", "dev,ops"},
	"user_agent": {"kubectl/v1.33.1"}, "source_addresses": {"172.20.41.2", "10.1.1.1"}, "audit_id": {"a", "b"},
	"host_mac": {"02:42:ac:11:00:02"}, "workload_kind": {"", "Deployment", "StatefulSet"},
}

var numbers = []uint64{0, 1, 33, 443, 1000}

// randomRecord draws a record of a random source, building its Loki entry
// from the registry and decoding it, so the test writes no per-field code.
func randomRecord(r *rand.Rand, i int, base time.Time) record.Record {
	src := field.Sources[r.IntN(3)]
	labels := map[string]string{"source": string(src)}
	meta := map[string]string{}
	body := map[string]any{}
	for _, f := range field.All() {
		if !f.AppliesTo(src) || f.Role == field.Timestamp || f.Name == "source" {
			continue
		}
		var v any
		switch f.Type {
		case field.String:
			p := pools[f.Name]
			if len(p) == 0 {
				p = []string{"", "x"}
			}
			v = p[r.IntN(len(p))]
			if f.Name == "exec_id" || f.Name == "parent_exec_id" {
				v = fmt.Sprintf("node-a:%d:%d", i, r.IntN(3))
			}
		case field.Uint:
			v = numbers[r.IntN(len(numbers))]
		case field.Bool:
			v = r.IntN(2) == 0
		}
		switch f.Role {
		case field.Label:
			labels[f.Name] = v.(string)
		case field.Metadata:
			meta[f.Name] = v.(string)
		default:
			body[f.Name] = v
		}
	}
	line, _ := json.Marshal(body)
	rec, err := record.Decode(base.Add(time.Duration(i)*time.Millisecond).UnixNano(), labels, meta, string(line))
	if err != nil {
		panic(err)
	}
	return rec
}

func randomFilter(r *rand.Rand) filter.Filter {
	var f filter.Filter
	fields := field.All()
	for range 1 + r.IntN(4) {
		fd := fields[1+r.IntN(len(fields)-1)]
		var v string
		switch {
		case fd.Name == "source":
			v = string(field.Sources[r.IntN(3)])
		case fd.Type == field.Uint:
			v = fmt.Sprint(numbers[r.IntN(len(numbers))])
		case fd.Type == field.Bool:
			v = fmt.Sprint(r.IntN(2) == 0)
		case fd.Name == "exec_id":
			v = fmt.Sprintf("node-a:%d:0", r.IntN(50))
		default:
			p := pools[fd.Name]
			if len(p) == 0 {
				p = []string{""}
			}
			v = p[r.IntN(len(p))]
		}
		op := []filter.Op{filter.Eq, filter.Neq, filter.Re, filter.Nre}[r.IntN(4)]
		if op.Regex() {
			v = []string{".*", "", "b.*", ".*a.*", "node-a:.*", "(?i)BASH", "[0-9]+", "web-1|db-0"}[r.IntN(8)]
		}
		f.Terms = append(f.Terms, filter.Term{Field: fd.Name, Op: op, Value: v})
	}
	g, err := filter.Parse(f.String())
	if err != nil {
		panic(fmt.Sprintf("generated filter %q: %v", f.String(), err))
	}
	return g
}

// TestMatcherAgreesWithStore: for random records and random filters, the
// filter language's in-memory matcher and the store's evaluation of the
// compiled LogQL select exactly the same records.
func TestMatcherAgreesWithStore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	recs := make([]record.Record, 400)
	for i := range recs {
		recs[i] = randomRecord(r, i, base)
	}
	_, srv := newTestStore(t, Options{})
	pushRecords(t, srv.URL, recs)
	client, err := loki.New(loki.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	from, to := base, base.Add(time.Hour)
	for i := range 300 {
		f := randomFilter(r)
		var sources []field.Source
		if r.IntN(3) == 0 {
			sources = []field.Source{field.Sources[r.IntN(3)]}
		}
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			m, err := f.Matcher()
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for j := range recs {
				if (sources == nil || slices.Contains(sources, recs[j].Source)) && m.Match(&recs[j]) {
					want = append(want, recs[j].Time)
				}
			}
			req, err := logql.Events(logql.Scope{Sources: sources, Filter: f}, from, to, 5000)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.QueryRange(context.Background(), loki.RangeQuery{Query: req.Query, Start: req.Start, End: req.End, Limit: req.Limit, Direction: loki.Forward, Categorize: i%2 == 0})
			if err != nil {
				t.Fatalf("%s: %v", req.Query, err)
			}
			got, err := record.FromStreams(resp.Data.Streams, loki.Forward)
			if err != nil {
				t.Fatal(err)
			}
			var gotTimes []int64
			for j, g := range got {
				gotTimes = append(gotTimes, g.Time)
				if orig := recs[(g.Time-base.UnixNano())/1e6]; orig != g {
					t.Fatalf("record %d came back different:\n got %+v\nwant %+v", j, g, orig)
				}
			}
			if !slices.Equal(gotTimes, want) {
				t.Errorf("filter %s sources %v\nquery %s\nmatcher selects %d records, store %d", f, sources, req.Query, len(want), len(gotTimes))
			}
		})
	}
}

func pushRecords(t testing.TB, base string, recs []record.Record) {
	t.Helper()
	type jstream struct {
		Stream map[string]string `json:"stream"`
		Values [][]any           `json:"values"`
	}
	streams := map[string]*jstream{}
	var order []string
	for i := range recs {
		e := record.Encode(&recs[i])
		k := record.LabelString(e.Labels)
		s, ok := streams[k]
		if !ok {
			s = &jstream{Stream: pairMap(e.Labels)}
			streams[k] = s
			order = append(order, k)
		}
		s.Values = append(s.Values, []any{fmt.Sprint(e.Time), e.Line, pairMap(e.Metadata)})
	}
	var body struct {
		Streams []*jstream `json:"streams"`
	}
	for _, k := range order {
		body.Streams = append(body.Streams, streams[k])
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(base+"/loki/api/v1/push", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("push: %d", resp.StatusCode)
	}
}

func pairMap(ps []record.Pair) map[string]string {
	m := map[string]string{}
	for _, p := range ps {
		m[p.Name] = p.Value
	}
	return m
}
