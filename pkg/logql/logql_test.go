package logql

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var (
	from = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	to   = time.Date(2026, 11, 26, 10, 16, 0, 0, time.UTC)
)

func scope(f string, sources ...field.Source) Scope {
	return Scope{Sources: sources, Filter: filter.MustParse(f)}
}

// goldenCases are the compiled queries, one golden file each under
// testdata/golden/. CI also parses every golden file with Grafana's LogQL
// grammar (tools/logqlcheck).
func goldenCases(t *testing.T) []struct {
	name string
	req  Request
} {
	must := func(r Request, err error) Request {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	return []struct {
		name string
		req  Request
	}{
		{"events-all", must(Events(scope(``), from, to, 100))},
		{"events-one-source", must(Events(scope(``, field.Cmd), from, to, 100))},
		{"events-two-sources", must(Events(scope(``, field.KubeExec, field.Cmd), from, to, 100))},
		{"events-all-sources-selected", must(Events(scope(``, field.Cmd, field.Net, field.KubeExec), from, to, 100))},
		{"events-seed-include", must(Events(scope(`comm="grep"`), from, to, 100))},
		{"events-seed-exclude", must(Events(scope(`comm!="grep"`), from, to, 100))},
		{"events-seed-exclude-bash", must(Events(scope(`comm!="bash"`, field.Cmd), from, to, 100))},
		{"events-seed-kube-exec", must(Events(scope(`resource="pods" name="woocommerce-6877958" source_addresses!="172.20.41.2"`), from, to, 100))},
		{"events-regex", must(Events(scope(`cmdline=~"curl .*" comm!~"ba?sh"`), from, to, 50))},
		{"events-same-field-or", must(Events(scope(`comm="curl" comm="ab" comm=~"wg.t"`), from, to, 50))},
		{"events-label-include", must(Events(scope(`namespace="shop"`), from, to, 10))},
		{"events-label-or", must(Events(scope(`namespace="shop" namespace="kube-system" namespace=~"dev-.*"`), from, to, 10))},
		{"events-label-exclude", must(Events(scope(`namespace!="kube-system" workload!~"core.*"`), from, to, 10))},
		{"events-label-empty", must(Events(scope(`namespace=""`), from, to, 10))},
		{"events-source-term", must(Events(scope(`source="net" source!="cmd"`, field.Net, field.Cmd), from, to, 10))},
		{"events-metadata", must(Events(scope(`pod="woocommerce-6877958-x2b4q" container!="istio-proxy"`), from, to, 10))},
		{"events-all-roles", must(Events(scope(`comm="bash" pod="mysql-0" namespace="shop" cmdline!="x" container_id=~"c3.*"`), from, to, 10))},
		{"events-number", must(Events(scope(`server_port="3306" uid!="0"`), from, to, 10))},
		{"events-bool", must(Events(scope(`probe="false" session_entry="true" exec_tty!="false"`), from, to, 10))},
		{"events-escaping", must(Events(scope(`cmdline="echo \"}\" | line_format \\ `+"`x`"+`" cwd="/tmp/é`+"\n"+`日本"`), from, to, 10))},
		{"events-regex-escaping", must(Events(scope(`cmdline=~"a\\.b\\d+\"" namespace=~"x\"|y"`), from, to, 10))},
		{"frequency-all", must(Frequency(scope(``), from, to, 0))},
		{"frequency-filtered", must(Frequency(scope(`comm!="bash"`, field.Cmd, field.Net), from, to, time.Minute))},
		{"frequency-day", must(Frequency(scope(`namespace="shop"`), to.Add(-24*time.Hour), to, 0))},
		{"groups-workload", must(Groups(scope(``), ByWorkload, from, to))},
		{"groups-workload-filtered", must(Groups(scope(`comm!="bash"`, field.Cmd), ByWorkload, from, to))},
		{"groups-container", must(Groups(scope(``), ByContainer, from, to))},
		{"groups-odd-range", must(Groups(scope(``), ByWorkload, from, from.Add(90*time.Second+500*time.Millisecond)))},
		{"trace", must(Trace("node-a:1795687500000000000:9001", from, to))},
		{"trace-escaping", must(Trace(`x"} |= "y`, from, to))},
		{"values-body", must(Values(scope(``, field.Cmd), "comm", 10, from, to))},
		{"values-body-filtered", must(Values(scope(`comm!="bash" cwd="/"`), "comm", 10, from, to))},
		{"values-label", must(Values(scope(`comm="bash"`), "namespace", 5, from, to))},
		{"values-metadata", must(Values(scope(``), "pod", 5, from, to))},
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", "golden", tc.name+".logql")
			got := tc.req.Query + "\n"
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run go test ./pkg/logql -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("query\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestGoldenFilesAreAllCases(t *testing.T) {
	names := map[string]bool{}
	for _, tc := range goldenCases(t) {
		names[tc.name+".logql"] = true
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !names[e.Name()] {
			t.Errorf("stale golden file %s: no case makes it", e.Name())
		}
	}
}

func TestRequests(t *testing.T) {
	ev, _ := Events(scope(``), from, to, 100)
	if ev.Kind != Range || ev.Direction != Backward || ev.Limit != 100 || !ev.Start.Equal(from) || !ev.End.Equal(to) {
		t.Errorf("events request = %+v", ev)
	}
	fr, _ := Frequency(scope(``), from, to, 0)
	if fr.Kind != Range || fr.Step != 5*time.Second {
		t.Errorf("frequency request = %+v (16 min range wants a 5s step)", fr)
	}
	gr, _ := Groups(scope(``), ByWorkload, from, to)
	if gr.Kind != Instant || !gr.Time.Equal(to) {
		t.Errorf("groups request = %+v", gr)
	}
	tr, _ := Trace("s", from, to)
	if tr.Direction != Forward || tr.Limit != MaxTrace {
		t.Errorf("trace request = %+v", tr)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"events empty range", second(Events(scope(``), to, to, 1))},
		{"frequency inverted range", second(Frequency(scope(``), to, from, 0))},
		{"groups by unknown", second(Groups(scope(``), []string{"nope"}, from, to))},
		{"groups by time", second(Groups(scope(``), []string{"time"}, from, to))},
		{"groups by nothing", second(Groups(scope(``), nil, from, to))},
		{"trace empty session", second(Trace("", from, to))},
		{"values unknown field", second(Values(scope(``), "nope", 5, from, to))},
		{"values zero limit", second(Values(scope(``), "comm", 0, from, to))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Error("no error")
			}
		})
	}
}

func second(_ Request, err error) error { return err }

func TestStep(t *testing.T) {
	tests := []struct {
		span time.Duration
		want time.Duration
	}{
		{time.Minute, time.Second},
		{16 * time.Minute, 5 * time.Second},
		{time.Hour, 15 * time.Second},
		{24 * time.Hour, 5 * time.Minute},
		{7 * 24 * time.Hour, time.Hour},
		{365 * 24 * time.Hour, 30 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.span.String(), func(t *testing.T) {
			got := Step(from, from.Add(tt.span))
			if got != tt.want {
				t.Errorf("Step = %v, want %v", got, tt.want)
			}
			if tt.span/got > MaxPoints {
				t.Errorf("%v points", tt.span/got)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", 24 * time.Hour: "24h", 90 * time.Second: "90s", 1500 * time.Millisecond: "1500ms",
		time.Nanosecond: "1ms", 90 * time.Minute: "90m",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// skeleton replaces every string literal of a query by "" and returns the
// literals, unquoted.
func skeleton(t *testing.T, q string) (string, []string) {
	t.Helper()
	var b strings.Builder
	var lits []string
	for i := 0; i < len(q); {
		if q[i] != '"' {
			b.WriteByte(q[i])
			i++
			continue
		}
		j := i + 1
		for ; j < len(q) && q[j] != '"'; j++ {
			if q[j] == '\\' {
				j++
			}
		}
		lit, err := strconv.Unquote(q[i : j+1])
		if err != nil {
			t.Fatalf("literal %s: %v", q[i:j+1], err)
		}
		lits = append(lits, lit)
		b.WriteString(`""`)
		i = j + 1
	}
	return b.String(), lits
}

// FuzzValueNeverChangesShape: whatever value a user types, the query has the
// same structure, and the value arrives in Loki exactly as typed.
func FuzzValueNeverChangesShape(f *testing.F) {
	for _, s := range []string{"x", `"} |= "y`, "\\", "`", "\x00\xff", "é\n", `" or comm="`} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, v string, which uint8) {
		fields := []string{"comm", "namespace", "pod", "cmdline"}
		name := fields[int(which)%len(fields)]
		term := filter.Filter{}.Include(name, v)
		ref := filter.Filter{}.Include(name, "x")
		if _, err := filter.Parse(term.String()); err != nil {
			return // not a value the filter language accepts (e.g. too long)
		}
		q := Stream(Scope{Filter: term})
		shape, lits := skeleton(t, q)
		wantShape, _ := skeleton(t, Stream(Scope{Filter: ref}))
		if shape != wantShape {
			t.Fatalf("value %q changed the query shape:\n%s\n%s", v, shape, wantShape)
		}
		if lits[len(lits)-1] != v {
			t.Fatalf("value arrives as %q, want %q", lits[len(lits)-1], v)
		}
	})
}
