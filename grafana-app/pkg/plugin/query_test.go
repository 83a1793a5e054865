package plugin_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/api"
)

// match is a filter applied to dataset entries by hand, for expectations.
type match func(e datasetEntry) bool

func all(datasetEntry) bool { return true }

func eq(name, value string) match {
	return func(e datasetEntry) bool { return e.Get(name) == value }
}

func and(ms ...match) match {
	return func(e datasetEntry) bool {
		for _, m := range ms {
			if !m(e) {
				return false
			}
		}
		return true
	}
}

func not(m match) match { return func(e datasetEntry) bool { return !m(e) } }

func TestGroupsCountExactly(t *testing.T) {
	in := newInstance(t, datasetStore(t), nil)
	entries := readDataset(t)
	tests := []struct {
		name  string
		query []string
		by    []string
		want  match
		total int64 // anchors the hand count
	}{
		{"everything by workload", nil, []string{"namespace", "workload", "pod"}, all, 95},
		{"by host and container", []string{"by", "host,container_id"}, []string{"host", "container_id"}, all, 95},
		{"commands only", []string{"sources", "cmd"}, []string{"namespace", "workload", "pod"}, eq("source", "cmd"), 60},
		{"two sources", []string{"sources", "net,kube_exec"}, []string{"namespace", "workload", "pod"}, not(eq("source", "cmd")), 35},
		{"label exclusion", []string{"filter", `namespace!="kube-system"`}, []string{"namespace", "workload", "pod"}, not(eq("namespace", "kube-system")), 72},
		{"metadata filter", []string{"filter", `pod="mysql-0" source="net"`}, []string{"namespace", "workload", "pod"}, and(eq("pod", "mysql-0"), eq("source", "net")), 8},
		{"one session", []string{"filter", `session="node-a:1795687500000000000:9001"`, "by", "source"}, []string{"source"}, eq("session", "node-a:1795687500000000000:9001"), 5},
		{"nothing", []string{"filter", `pod="none"`}, []string{"namespace", "workload", "pod"}, eq("pod", "none"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans api.GroupsAnswer
			in.get(t, q("/groups", append([]string{"from", at1000, "to", at1020}, tt.query...)...), &ans)
			want := map[string]int64{}
			var total int64
			for _, e := range entries {
				if !tt.want(e) {
					continue
				}
				total++
				path := ""
				for _, f := range tt.by {
					path += "/" + e.Get(f)
					want[path]++
				}
			}
			if total != tt.total || ans.Total != total {
				t.Errorf("total = %d, hand count %d, want %d", ans.Total, total, tt.total)
			}
			got := map[string]int64{}
			var walk func(gs []*api.Group, prefix string, terms []string)
			walk = func(gs []*api.Group, prefix string, terms []string) {
				for _, g := range gs {
					term := g.Field + "=" + strconv.Quote(g.Value)
					path := prefix + "/" + g.Value
					got[path] = g.Count
					if g.Term != term || g.Filter != strings.Join(append(slices.Clip(terms), term), " ") {
						t.Errorf("%s: term %q filter %q", path, g.Term, g.Filter)
					}
					walk(g.Groups, path, append(slices.Clip(terms), term))
				}
			}
			walk(ans.Groups, "", nil)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("counts:\n got %v\nwant %v", got, want)
			}
			for i := 1; i < len(ans.Groups); i++ {
				if ans.Groups[i-1].Count < ans.Groups[i].Count {
					t.Errorf("groups not sorted by count: %d before %d", ans.Groups[i-1].Count, ans.Groups[i].Count)
				}
			}
		})
	}
	t.Run("golden", func(t *testing.T) {
		golden(t, "groups", in.get(t, q("/groups", "from", at1000, "to", at1020), nil))
	})
	t.Run("from inclusive, to exclusive", func(t *testing.T) {
		// The kube exec is the only record at 10:05:00.000 exactly.
		at1005 := "1795687500000"
		for _, tt := range []struct {
			from, to string
			want     int64
		}{{at1005, at1020, 1}, {at1000, at1005, 0}, {at1005, "1795687500001", 1}} {
			var ans api.GroupsAnswer
			in.get(t, q("/groups", "from", tt.from, "to", tt.to, "sources", "kube_exec"), &ans)
			if ans.Total != tt.want {
				t.Errorf("[%s, %s): %d kube execs, want %d", tt.from, tt.to, ans.Total, tt.want)
			}
		}
	})
	t.Run("a node's filter scopes to it", func(t *testing.T) {
		var ans api.GroupsAnswer
		in.get(t, q("/groups", "from", at1000, "to", at1020), &ans)
		pod := ans.Groups[0].Groups[0].Groups[0]
		var again api.GroupsAnswer
		in.get(t, q("/groups", "from", at1000, "to", at1020, "filter", pod.Filter), &again)
		if again.Total != pod.Count {
			t.Errorf("filter %s: total %d, node said %d", pod.Filter, again.Total, pod.Count)
		}
	})
}

func TestFrequencyCountsExactly(t *testing.T) {
	in := newInstance(t, datasetStore(t), nil)
	entries := readDataset(t)
	from := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		from, to time.Time
		query    []string
		step     time.Duration
		buckets  int
		want     match
	}{
		{"1m steps", from, from.Add(20 * time.Minute), []string{"step", "1m"}, time.Minute, 20, all},
		{"default step fits the range", from, from.Add(20 * time.Minute), nil, 5 * time.Second, 240, all},
		{"last bucket cut at to", from, from.Add(16*time.Minute + 30*time.Second), []string{"step", "1m"}, time.Minute, 17, all},
		// The kube exec and the session's first command are at 10:05:00.000
		// and 10:05:00.500: from is inclusive, to exclusive.
		{"from on a record", from.Add(5 * time.Minute), from.Add(6 * time.Minute), []string{"step", "30s"}, 30 * time.Second, 2, all},
		{"to on a record", from, from.Add(5 * time.Minute), []string{"step", "5m"}, 5 * time.Minute, 1, all},
		{"range not on a minute", from.Add(5*time.Minute + 123*time.Millisecond), from.Add(5*time.Minute + 40*time.Second), []string{"step", "10s"}, 10 * time.Second, 4, all},
		{"filtered", from, from.Add(20 * time.Minute), []string{"step", "2m", "sources", "cmd,kube_exec", "filter", `pod="woocommerce-6877958-x2b4q"`}, 2 * time.Minute, 10,
			and(not(eq("source", "net")), eq("pod", "woocommerce-6877958-x2b4q"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans api.FrequencyAnswer
			in.get(t, q("/frequency", append([]string{"from", ms(tt.from), "to", ms(tt.to)}, tt.query...)...), &ans)
			if ans.Step != tt.step.Milliseconds() || len(ans.Times) != tt.buckets {
				t.Fatalf("step %d ms, %d buckets; want %s, %d", ans.Step, len(ans.Times), tt.step, tt.buckets)
			}
			want := map[string][]int64{}
			var total int64
			for _, e := range entries {
				if e.Time < tt.from.UnixNano() || e.Time >= tt.to.UnixNano() || !tt.want(e) {
					continue
				}
				src := e.Get("source")
				if want[src] == nil {
					want[src] = make([]int64, tt.buckets)
				}
				want[src][(e.Time-tt.from.UnixNano())/int64(tt.step)]++
				total++
			}
			if ans.Total != total {
				t.Errorf("total %d, want %d", ans.Total, total)
			}
			for i, tm := range ans.Times {
				if tm != tt.from.Add(time.Duration(i)*tt.step).UnixMilli() {
					t.Fatalf("times[%d] = %d", i, tm)
				}
			}
			for _, s := range ans.Series {
				w := want[string(s.Source)]
				if w == nil {
					w = make([]int64, tt.buckets)
				}
				if fmt.Sprint(s.Counts) != fmt.Sprint(w) {
					t.Errorf("%s:\n got %v\nwant %v", s.Source, s.Counts, w)
				}
			}
		})
	}
	t.Run("golden", func(t *testing.T) {
		golden(t, "frequency", in.get(t, q("/frequency", "from", at1000, "to", at1020, "step", "1m"), nil))
	})
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
