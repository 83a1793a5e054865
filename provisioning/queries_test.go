package provisioning

// The dashboard's queries on the embedded store, and its data links.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/link"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/store/storetest"
)

var update = flag.Bool("update", false, "rewrite testdata/logql/ (the dashboard's queries for Grafana's LogQL grammar check)")

// The fixtures the store is seeded with, and the queries' golden files.
var (
	datasetPath  = filepath.Join("..", "testdata", "loki", "dataset.json")
	sidekickPath = filepath.Join("..", "testdata", "falcosidekick", "loki-json.json") // docker-compose.yml: LOKI_FORMAT=json
	goldenDir    = filepath.Join("testdata", "logql")
)

// Time range of the store tests: dataset.json's records lie between
// 10:00:05 and 10:05:43 on 2026-11-26 UTC, three of Falcosidekick's alerts
// at 10:05.
var (
	from = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	to   = time.Date(2026, 11, 26, 10, 20, 0, 0, time.UTC)
	// step is what Grafana puts for $__auto (its interval) in a range query.
	step = time.Minute
)

// grafanaVars substitutes the template variables of a query as Grafana's
// Loki data source does: ns is the namespace variable's value (the custom
// All value is not escaped, others are regex-escaped: the variable has an
// All option); $__auto is the step in range queries and the range in
// instant ones. Ranges are written as the compiler writes them.
func grafanaVars(expr string, instant bool, ns, allValue string) string {
	rng := logql.Duration(to.Sub(from))
	auto := logql.Duration(step)
	if instant {
		auto = rng
	}
	if ns != allValue {
		ns = regexp.MustCompile(`[\\^$*+?.()|[\]{}]`).ReplaceAllString(ns, `\\$0`)
	}
	return strings.NewReplacer("$__auto", auto, "$__range", rng, "$__interval", auto,
		"${namespace}", ns, "$namespace", ns).Replace(expr)
}

// compiled is what pkg/logql compiles each panel's question to, for the
// namespace variable's value ns: the dashboard must ask exactly that.
func compiled(t *testing.T, title, ns string) string {
	t.Helper()
	scope := func(sources []field.Source, text string) logql.Scope {
		f, err := filter.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		return logql.Scope{Sources: sources, Filter: f}
	}
	inNS := `namespace=~` + filter.Quote(ns)
	var r logql.Request
	var err error
	switch title {
	case "Activity by source":
		r, err = logql.Frequency(scope(nil, inNS), from, to, step)
	case "Top namespaces":
		r, err = logql.Values(scope(nil, `namespace!=""`), "namespace", 10, from, to)
	case "Top workloads":
		r, err = logql.Groups(scope(nil, inNS+` workload!=""`), []string{"namespace", "workload"}, from, to)
		r.Query = "topk(10, " + r.Query + ")"
	case "Top commands":
		r, err = logql.Values(scope([]field.Source{field.Cmd}, inNS), "comm", 10, from, to)
	case "Recent kube execs":
		return logql.Stream(scope([]field.Source{field.KubeExec}, inNS), "k8s_user", "name", "command", "response_code", "audit_id", "source_addresses")
	case "Falco alerts":
		return policySelector(t)
	default:
		t.Fatalf("no compiled query for panel %q", title)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r.Query
}

// entry is one record of dataset.json, read independently of the code under
// test: the expectations are counted from it.
type entry = storetest.Entry

func readDataset(t *testing.T) ([]entry, []byte) {
	t.Helper()
	b, err := os.ReadFile(datasetPath)
	if err != nil {
		t.Fatal(err)
	}
	out := storetest.ReadPushJSON(t, b)
	if len(out) != 95 {
		t.Fatalf("dataset.json: %d records, its README says 95", len(out))
	}
	return out, b
}

// sidekickBodies are the push bodies Falcosidekick sent, and the alert
// times in them.
func sidekickBodies(t *testing.T) ([]json.RawMessage, []int64) {
	t.Helper()
	bodies := storetest.SidekickBodies(t, sidekickPath)
	var times []int64
	for _, body := range bodies {
		var push struct {
			Streams []struct{ Values [][]string }
		}
		if err := json.Unmarshal(body, &push); err != nil {
			t.Fatal(err)
		}
		for _, s := range push.Streams {
			for _, v := range s.Values {
				n, err := strconv.ParseInt(v[0], 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				times = append(times, n)
			}
		}
	}
	return bodies, times
}

// key names a series or row by its labels.
func key(labels map[string]string, names ...string) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, n+"="+labels[n])
	}
	return strings.Join(parts, ",")
}

// expected counts the dataset's records per row of a panel, for the
// namespace variable's value ns (a regex, as in the query).
func expected(title, ns string, entries []entry, alerts []int64) map[string]float64 {
	inNS := regexp.MustCompile(`^(?:` + ns + `)$`)
	out := map[string]float64{}
	for _, e := range entries {
		nsOK := inNS.MatchString(e.Get("namespace"))
		switch title {
		case "Activity by source":
			if nsOK {
				out[key(e.Labels, "source")]++
			}
		case "Top namespaces":
			if e.Get("namespace") != "" {
				out[key(e.Labels, "namespace")]++
			}
		case "Top workloads":
			if nsOK && e.Get("workload") != "" {
				out[key(e.Labels, "namespace", "workload")]++
			}
		case "Top commands":
			if nsOK && e.Get("source") == "cmd" {
				out[key(map[string]string{"comm": e.Get("comm")}, "comm")]++
			}
		case "Recent kube execs":
			if nsOK && e.Get("source") == "kube_exec" {
				out[key(map[string]string{"audit_id": e.Get("audit_id")}, "audit_id")]++
			}
		}
	}
	if title == "Falco alerts" {
		for _, at := range alerts {
			if at >= from.UnixNano() && at < to.UnixNano() {
				out["alerts"]++
			}
		}
	}
	return out
}

// byLabels are the labels each metric panel's rows are keyed by.
var byLabels = map[string][]string{
	"Activity by source": {"source"},
	"Top namespaces":     {"namespace"},
	"Top workloads":      {"namespace", "workload"},
	"Top commands":       {"comm"},
}

// row is one row of a panel's answer: a series, or a log entry with all
// its labels (stream, structured metadata, parsed).
type row struct {
	labels map[string]string
	count  float64
	log    bool // a log entry: its links select at least its own record
}

// answer runs a panel's query on the store as Grafana would send it.
func answer(t *testing.T, c *loki.Client, p *panel, q string) []row {
	t.Helper()
	ctx := context.Background()
	tg := p.Targets[0]
	var rows []row
	if tg.QueryType == "instant" {
		resp, err := c.Query(ctx, loki.InstantQuery{Query: q, Time: to})
		if err != nil {
			t.Fatalf("panel %q: %s: %v", p.Title, q, err)
		}
		for _, s := range resp.Data.Vector {
			rows = append(rows, row{labels: s.Metric, count: s.Value.Value})
		}
		return rows
	}
	rq := loki.RangeQuery{Query: q, Start: from, End: to, Categorize: true}
	if tg.MaxLines > 0 {
		rq.Limit, rq.Direction = tg.MaxLines, loki.Backward
	} else {
		rq.Step = step
	}
	resp, err := c.QueryRange(ctx, rq)
	if err != nil {
		t.Fatalf("panel %q: %s: %v", p.Title, q, err)
	}
	for _, s := range resp.Data.Matrix {
		r := row{labels: s.Metric}
		for _, pt := range s.Values {
			r.count += pt.Value
		}
		rows = append(rows, r)
	}
	for _, s := range resp.Data.Streams {
		for _, e := range s.Entries {
			ls := maps.Clone(s.Labels)
			maps.Copy(ls, e.StructuredMetadata)
			maps.Copy(ls, e.Parsed)
			rows = append(rows, row{labels: ls, count: 1, log: true})
		}
	}
	if resp.Data.ResultType == loki.ResultTypeStreams && tg.MaxLines > 0 && len(rows) > tg.MaxLines {
		t.Errorf("panel %q: %d entries past maxLines %d", p.Title, len(rows), tg.MaxLines)
	}
	return rows
}

// TestQueries runs every query of the dashboard, for several values of the
// namespace variable, on the embedded store seeded with dataset.json and
// Falcosidekick's alerts: each is exactly what pkg/logql compiles the
// panel's question to, the store accepts it, and it answers the counts read
// from the fixtures. Then every data link of every answered row opens a
// view whose filter parses and selects the same records.
func TestQueries(t *testing.T) {
	d := loadDashboard(t)
	nsVar := namespaceVar(t, d)
	entries, dataset := readDataset(t)
	bodies, alerts := sidekickBodies(t)
	base := storetest.Start(t, nil)
	storetest.PushJSON(t, base, dataset)
	for _, b := range bodies {
		storetest.PushJSON(t, base, b)
	}
	c, err := loki.New(loki.Config{URL: base})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("namespace variable", func(t *testing.T) {
		got, err := c.LabelValues(context.Background(), nsVar.Query.Label, nsVar.Query.Stream, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"kube-system", "shop"}; !slices.Equal(got, want) {
			t.Errorf("label values %q, want %q", got, want)
		}
		if want := fmt.Sprintf("label_values(%s,%s)", nsVar.Query.Stream, nsVar.Query.Label); nsVar.Definition != want {
			t.Errorf("definition %q, want %q", nsVar.Definition, want)
		}
	})

	// Exact counts of dataset.json (95 records: 60 cmd, 34 net, 1 kube_exec;
	// 72 in shop, 23 in kube-system), pinned here besides being counted.
	pinned := map[string]map[string]float64{
		"Activity by source": {"source=cmd": 60, "source=net": 34, "source=kube_exec": 1},
		"Top namespaces":     {"namespace=shop": 72, "namespace=kube-system": 23},
		"Top workloads": {"namespace=shop,workload=woocommerce": 50, "namespace=shop,workload=mysql": 22,
			"namespace=kube-system,workload=coredns": 23},
		"Falco alerts": {"alerts": 3},
	}

	golden := map[string]string{}
	for _, ns := range []string{nsVar.AllValue, "shop", "kube-system"} {
		for i := range d.Panels {
			p := &d.Panels[i]
			t.Run(p.Title+"/namespace="+ns, func(t *testing.T) {
				tg := p.Targets[0]
				if len(p.Targets) != 1 {
					t.Fatalf("%d queries, want 1", len(p.Targets))
				}
				q := grafanaVars(tg.Expr, tg.QueryType == "instant", ns, nsVar.AllValue)
				if strings.Contains(q, "$") {
					t.Fatalf("query %q: a template variable is left", q)
				}
				if want := compiled(t, p.Title, ns); q != want {
					t.Errorf("query\n  %s\nis not what pkg/logql compiles the question to:\n  %s", q, want)
				}
				if ns == nsVar.AllValue {
					golden[p.Title] = q
				}
				rows := answer(t, c, p, q)
				want := expected(p.Title, ns, entries, alerts)
				if ns == nsVar.AllValue && pinned[p.Title] != nil && !maps.Equal(want, pinned[p.Title]) {
					t.Fatalf("counted %v from dataset.json, pinned %v", want, pinned[p.Title])
				}
				got := map[string]float64{}
				for _, r := range rows {
					switch {
					case p.Title == "Falco alerts":
						got["alerts"] += r.count
					case p.Title == "Recent kube execs":
						got[key(r.labels, "audit_id")] += r.count
					default:
						k := key(r.labels, byLabels[p.Title]...)
						if _, dup := got[k]; dup {
							t.Errorf("row %s twice", k)
						}
						got[k] = r.count
					}
				}
				if len(got) == 0 && ns == nsVar.AllValue {
					t.Fatal("empty answer") // (a namespace may have no kube exec)
				}
				checkRows(t, p.Title, got, want)
				checkLinks(t, c, p, rows, ns)
			})
		}
	}

	t.Run("testdata/logql", func(t *testing.T) { checkGolden(t, golden) })
}

// checkRows compares a panel's rows with the counted ones; a top-10 panel
// must hold 10 (or all) rows, each with its exact count, none beaten by a
// row left out.
func checkRows(t *testing.T, title string, got, want map[string]float64) {
	t.Helper()
	if !strings.HasPrefix(title, "Top ") {
		if !maps.Equal(got, want) {
			t.Errorf("answer %v, want %v", got, want)
		}
		return
	}
	if n := min(10, len(want)); len(got) != n {
		t.Errorf("%d rows, want %d", len(got), n)
	}
	least := -1.0
	for k, v := range got {
		if want[k] != v {
			t.Errorf("row %s: %v, want %v", k, v, want[k])
		}
		if least < 0 || v < least {
			least = v
		}
	}
	for k, v := range want {
		if _, ok := got[k]; !ok && v > least {
			t.Errorf("row %s (%v) left out of the top for one of %v", k, v, least)
		}
	}
}

// linkVar is a Grafana variable in a link: ${name}, ${name.path} or
// ${name:format}.
var linkVar = regexp.MustCompile(`\$\{([A-Za-z_][\w.]*)(?::(\w+))?\}`)

// percentEncode is Grafana's percentencode format (encodeURIComponent that
// also encodes !'()*).
func percentEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// checkLinks fills every data link of a panel for each row of its answer as
// Grafana would, and checks it is one of the two link shapes of
// ARCHITECTURE.md, with the dashboard's time range; an audit view's filter
// parses and selects as many records as the row counts (a log row: at least
// its own record); a trace names the row's kube exec.
func checkLinks(t *testing.T, c *loki.Client, p *panel, rows []row, ns string) {
	t.Helper()
	links := p.dataLinks(t)
	if p.Type == "logs" {
		if len(links) != 0 {
			t.Error("a logs panel shows no data links")
		}
		return
	}
	if len(links) == 0 {
		t.Fatal("no data links")
	}
	fields := p.tableFields(t) // what a log table keeps of its rows
	for _, r := range rows {
		for _, l := range links {
			var missing []string
			raw := linkVar.ReplaceAllStringFunc(l.URL, func(m string) string {
				sub := linkVar.FindStringSubmatch(m)
				name, format := sub[1], sub[2]
				var v string
				switch {
				case name == "__from":
					v = strconv.FormatInt(from.UnixMilli(), 10)
				case name == "__to":
					v = strconv.FormatInt(to.UnixMilli(), 10)
				case name == "namespace":
					v = ns
				case strings.HasPrefix(name, "__field.labels.") && p.Type == "timeseries":
					lv, ok := r.labels[strings.TrimPrefix(name, "__field.labels.")]
					if !ok {
						missing = append(missing, name)
					}
					v = lv
				case strings.HasPrefix(name, "__data.fields.") && p.Type == "table":
					f := strings.TrimPrefix(name, "__data.fields.")
					lv, ok := r.labels[f]
					if !ok || (fields != nil && !slices.Contains(fields, f)) {
						missing = append(missing, name)
					}
					v = lv
				default:
					missing = append(missing, name)
				}
				switch format {
				case "":
				case "percentencode":
					v = percentEncode(v)
				default:
					t.Errorf("link %q: format %q", l.Title, format)
				}
				return v
			})
			if len(missing) > 0 {
				t.Fatalf("link %q: %q have no value in row %v", l.Title, missing, r.labels)
			}
			checkLink(t, c, l.Title, raw, r)
		}
	}
}

func checkLink(t *testing.T, c *loki.Client, title, raw string, r row) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("link %q: %s: %v", title, raw, err)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		t.Fatalf("link %q: %s: %v", title, raw, err)
	}
	if u.Scheme != "" || u.Host != "" {
		t.Errorf("link %q: %s is not a path in Grafana", title, raw)
	}
	if q.Get("from") != strconv.FormatInt(from.UnixMilli(), 10) || q.Get("to") != strconv.FormatInt(to.UnixMilli(), 10) {
		t.Errorf("link %q: %s: not the dashboard's time range", title, raw)
	}
	params := slices.Sorted(maps.Keys(q))
	switch {
	case u.Path == link.AppPath+"/audit":
		if !slices.Equal(params, []string{"filter", "from", "to"}) || len(q["filter"]) != 1 {
			t.Fatalf("link %q: %s: parameters %q, want from, to, filter", title, raw, params)
		}
		f, err := filter.Parse(q.Get("filter"))
		if err != nil {
			t.Fatalf("link %q: filter %q: %v", title, q.Get("filter"), err)
		}
		n := count(t, c, logql.Stream(logql.Scope{Filter: f}))
		if (r.log && n < 1) || (!r.log && n != r.count) {
			t.Errorf("link %q: filter %s selects %v records, the row counts %v", title, f, n, r.count)
		}
	case strings.HasPrefix(u.Path, link.AppPath+"/trace/"):
		if !slices.Equal(params, []string{"from", "to"}) {
			t.Fatalf("link %q: %s: parameters %q, want from, to", title, raw, params)
		}
		id := strings.TrimPrefix(u.Path, link.AppPath+"/trace/")
		if id == "" || strings.Contains(id, "/") {
			t.Fatalf("link %q: %s: no session or audit id", title, raw)
		}
		if id != r.labels["session"] && id != r.labels["audit_id"] {
			t.Errorf("link %q: %s names neither the row's session nor its audit id", title, raw)
		}
	default:
		t.Errorf("link %q: %s is neither the audit view nor the trace view", title, raw)
	}
}

// count is the number of records a log query selects over the range.
func count(t *testing.T, c *loki.Client, stream string) float64 {
	t.Helper()
	q := fmt.Sprintf("sum(count_over_time(%s [%s]))", stream, logql.Duration(to.Sub(from)))
	resp, err := c.Query(context.Background(), loki.InstantQuery{Query: q, Time: to})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var n float64
	for _, s := range resp.Data.Vector {
		n += s.Value.Value
	}
	return n
}

var slug = regexp.MustCompile(`[^a-z0-9]+`)

// checkGolden keeps testdata/logql/ in step with the dashboard's queries
// (variables filled, namespace All): Grafana's LogQL grammar check reads
// them (go tool mage logQLGrammar, part of go tool mage test).
func checkGolden(t *testing.T, queries map[string]string) {
	if len(queries) == 0 {
		t.Fatal("no queries")
	}
	names := map[string]bool{}
	for title, q := range queries {
		name := strings.Trim(slug.ReplaceAllString(strings.ToLower(title), "-"), "-") + ".logql"
		names[name] = true
		path := filepath.Join(goldenDir, name)
		if *update {
			if err := os.MkdirAll(goldenDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(q+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v (go test ./provisioning -update)", err)
			continue
		}
		if string(b) != q+"\n" {
			t.Errorf("%s is stale (go test ./provisioning -update):\n  %s\nwant\n  %s", path, strings.TrimSpace(string(b)), q)
		}
	}
	files, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !names[f.Name()] {
			if *update {
				os.Remove(filepath.Join(goldenDir, f.Name()))
			} else {
				t.Errorf("stale %s: no panel asks it", filepath.Join(goldenDir, f.Name()))
			}
		}
	}
}
