package plugin_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/store/storetest"
)

type eventsAnswer struct {
	Records []map[string]string `json:"records"`
	Next    string              `json:"next"`
}

// tiedRecords makes n records in groups of tie sharing one nanosecond:
// across streams (hosts, sources) and within one stream (exec ids).
func tiedRecords(start time.Time, n, tie int) []record.Record {
	recs := make([]record.Record, n)
	for i := range recs {
		ts := start.Add(time.Duration(i/tie) * 1500 * time.Millisecond).UnixNano()
		src := []field.Source{field.Cmd, field.Net}[i%2]
		recs[i] = record.Record{
			Time: ts, Source: src, Cluster: "gen", Host: fmt.Sprintf("node-%d", i%3), Namespace: "gen", Workload: "w",
			Pod: "w-1", Container: "c", ContainerID: fmt.Sprintf("%064x", 7),
			Comm: "sh", PID: uint64(100 + i), ExecID: fmt.Sprintf("node:%d:%d", ts, 100+i),
		}
		if src == field.Cmd {
			recs[i].Cmdline = "sh -c " + strconv.Itoa(i)
		} else {
			recs[i].Direction, recs[i].L4Proto, recs[i].ServerIP, recs[i].ServerPort = "out", "tcp", "10.0.0.1", 443
		}
	}
	return recs
}

func TestEventsPagesWithoutGapsOrRepeats(t *testing.T) {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	recs := tiedRecords(start, 300, 5) // 60 instants of 5 records
	in := newInstance(t, storetest.Start(t, recs), nil)
	from, to := ms(start), ms(start.Add(time.Hour))
	tests := []struct {
		name   string
		limit  int
		filter string
		want   int
	}{
		{"one at a time", 1, "", 300},
		{"pages end inside ties", 7, "", 300},
		{"pages end on ties", 5, "", 300},
		{"pages of 4 over ties of 5", 4, "", 300},
		{"one page", 1000, "", 300},
		{"filtered", 3, `source="cmd" host!="node-0"`, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			var last int64 = 1 << 62
			cursor := ""
			pages := 0
			for {
				var ans eventsAnswer
				in.get(t, q("/events", "from", from, "to", to, "limit", strconv.Itoa(tt.limit), "filter", tt.filter, "cursor", cursor), &ans)
				pages++
				if len(ans.Records) > tt.limit || (ans.Next != "" && len(ans.Records) != tt.limit) {
					t.Fatalf("page %d: %d records, limit %d, next %q", pages, len(ans.Records), tt.limit, ans.Next)
				}
				for _, r := range ans.Records {
					id := r["id"]
					if seen[id] {
						t.Fatalf("page %d repeats %s (%s)", pages, id, r["time"])
					}
					seen[id] = true
					ts, err := strconv.ParseInt(r["time"], 10, 64)
					if err != nil || ts > last {
						t.Fatalf("page %d: time %s after %d: not newest first", pages, r["time"], last)
					}
					last = ts
				}
				if ans.Next == "" {
					break
				}
				cursor = ans.Next
				if pages > 400 {
					t.Fatal("paging does not end")
				}
			}
			if len(seen) != tt.want {
				t.Errorf("%d distinct records over %d pages, want %d", len(seen), pages, tt.want)
			}
			if wantPages := (tt.want + tt.limit - 1) / tt.limit; pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
		})
	}
}

func TestEventsDataset(t *testing.T) {
	in := newInstance(t, datasetStore(t), nil)
	t.Run("golden first page", func(t *testing.T) {
		golden(t, "events", in.get(t, q("/events", "from", at1000, "to", at1020, "limit", "5"), nil))
	})
	entries := readDataset(t)
	tests := []struct {
		name, filter, sources string
		want                  match
		n                     int // anchors the hand count
	}{
		{"all", "", "", all, 95},
		{"a session", `session="node-a:1795687500000000000:9001"`, "", eq("session", "node-a:1795687500000000000:9001"), 5},
		{"body field", `comm="curl" source="net"`, "", and(eq("comm", "curl"), eq("source", "net")), 12},
		{"regex on the command line", `cmdline=~"ab .*"`, "cmd", and(eq("comm", "ab"), eq("source", "cmd")), 1},
		{"exclusions", `namespace!="shop" comm!="ls"`, "", and(not(eq("namespace", "shop")), not(eq("comm", "ls"))), 21},
		{"sources", "", "kube_exec,net", not(eq("source", "cmd")), 35},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans eventsAnswer
			in.get(t, q("/events", "from", at1000, "to", at1020, "limit", "1000", "filter", tt.filter, "sources", tt.sources), &ans)
			want := map[string]bool{}
			for _, e := range entries {
				if tt.want(e) {
					want[strconv.FormatInt(e.Time, 10)+" "+e.Get("exec_id")+e.Get("source")] = true
				}
			}
			got := map[string]bool{}
			for _, r := range ans.Records {
				got[r["time"]+" "+r["exec_id"]+r["source"]] = true
			}
			if len(want) != tt.n || len(ans.Records) != tt.n || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%d records (hand count %d, want %d):\n got %v\nwant %v", len(ans.Records), len(want), tt.n, got, want)
			}
			if ans.Next != "" {
				t.Errorf("next %q on the only page", ans.Next)
			}
		})
	}
}
