package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"syscall"
	"time"

	"github.com/activityaudit/activityaudit/collector/pipeline"
	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/timerange"
)

// rangeFlags are the time range flags of the query commands.
type rangeFlags struct {
	since, from, to string
	defaultFrom     string
}

func (f *rangeFlags) register(fs *flag.FlagSet, defaultFrom string) {
	f.defaultFrom = defaultFrom
	fs.StringVar(&f.since, "since", "", "time range: from now minus this duration (e.g. 1h, 7d) to now")
	fs.StringVar(&f.from, "from", "", "start of the time range: RFC 3339, Unix ms or now-1h (default "+defaultFrom+")")
	fs.StringVar(&f.to, "to", "", "end of the time range (default now)")
}

func (f *rangeFlags) resolve(now time.Time) (timerange.Range, error) {
	from := f.from
	if from == "" && f.since == "" {
		from = f.defaultFrom
	}
	rng, err := timerange.FromFlags(f.since, from, f.to, now)
	if err != nil {
		return rng, usageError("%v", err)
	}
	return rng, nil
}

// viewFlags choose how results are shown.
type viewFlags struct {
	json       bool
	local      bool
	link       bool
	grafanaURL string
}

func (f *viewFlags) register(fs *flag.FlagSet, json, link string) {
	fs.BoolVar(&f.json, "json", false, json)
	fs.BoolVar(&f.local, "local", false, "show times in the local time zone (default UTC)")
	if link != "" {
		fs.BoolVar(&f.link, "link", false, link)
		fs.StringVar(&f.grafanaURL, "grafana-url", "http://localhost:3000", "Grafana base URL for --link")
	}
}

// runQuery lists records, newest first.
func runQuery(ctx context.Context, args []string, stdio IO) error {
	fs := newFlagSet("query", "[FILTER]", stdio.Err)
	var conn connFlags
	conn.register(fs, false)
	var sources sourcesFlag
	fs.Var(&sources, "sources", "sources to list, comma-separated: cmd,net,kube_exec (default all)")
	var rf rangeFlags
	rf.register(fs, "now-1h")
	limit := fs.Int("limit", 100, "most records to list (the newest)")
	var view viewFlags
	view.register(fs, "print NDJSON: one full record per line", "print the Grafana audit link of the query at the end (on stderr with --json)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError("one FILTER argument, got %d (quote the filter: 'comm=\"grep\" pid=\"1\"')", len(pos))
	}
	text := ""
	if len(pos) == 1 {
		text = pos[0]
	}
	flt, err := parseFilter(text)
	if err != nil {
		return err
	}
	if *limit <= 0 {
		return usageError("--limit must be positive")
	}
	rng, err := rf.resolve(time.Now())
	if err != nil {
		return err
	}
	req, err := logql.Events(logql.Scope{Sources: sources, Filter: flt}, rng.From, rng.To, *limit)
	if err != nil {
		return usageError("%v", err)
	}
	client, err := conn.queryClient()
	if err != nil {
		return err
	}
	recs, err := logRecords(ctx, client, req)
	if err != nil {
		return connHint(err, &conn)
	}

	c := newClock(view.local)
	out := bufio.NewWriter(stdio.Out)
	if view.json {
		var buf []byte
		for i := range recs {
			buf = pipeline.AppendJSON(buf[:0], &recs[i])
			buf = append(buf, '\n')
			out.Write(buf)
		}
	} else if len(recs) > 0 {
		recordTable(recs, c).write(out, termWidth(stdio.Out))
	}
	link := auditLink(view.grafanaURL, rng.From, rng.To, sources, flt)
	if view.link && !view.json {
		fmt.Fprintln(out, link)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	switch {
	case len(recs) == 0:
		fmt.Fprintf(stdio.Err, "no records match between %s and %s\n", c.full(rng.From.UnixNano()), c.full(rng.To.UnixNano()))
	case len(recs) >= *limit:
		fmt.Fprintf(stdio.Err, "showing the newest %d records; there may be more: raise --limit or narrow the filter or time range\n", len(recs))
	}
	if view.link && view.json {
		fmt.Fprintln(stdio.Err, link)
	}
	return nil
}

// recordTable lays out records with columns for their sources: a source's
// own columns when all are of one source, else a summary column.
func recordTable(recs []record.Record, c clock) *table {
	src := recs[0].Source
	for i := range recs {
		if recs[i].Source != src {
			src = ""
			break
		}
	}
	t := &table{}
	switch src {
	case field.Cmd:
		t.cols = []tableCol{{title: "TIME"}, {title: "HOST", give: 1}, {title: "SCOPE", give: 1, min: 12}, {title: "USER"}, {title: "PID", right: true}, {title: "CMDLINE", give: 2, min: 20}}
		for i := range recs {
			r := &recs[i]
			t.add(c.full(r.Time), r.Host, scope(r), userOf(r), pidOf(r), r.Cmdline)
		}
	case field.Net:
		t.cols = []tableCol{{title: "TIME"}, {title: "HOST", give: 1}, {title: "SCOPE", give: 1, min: 12}, {title: "PID", right: true}, {title: "COMM"}, {title: "DIR"}, {title: "L4"}, {title: "CLIENT → SERVER", give: 2, min: 24}, {title: "RESULT"}}
		for i := range recs {
			r := &recs[i]
			t.add(c.full(r.Time), r.Host, scope(r), pidOf(r), r.Comm, r.Direction, r.L4Proto, endpoints(r), r.Result)
		}
	case field.KubeExec:
		t.cols = []tableCol{{title: "TIME"}, {title: "USER", give: 1, min: 12}, {title: "VERB"}, {title: "POD", give: 1, min: 12}, {title: "CONTAINER", give: 1}, {title: "CODE", right: true}, {title: "COMMAND", give: 2, min: 16}}
		for i := range recs {
			r := &recs[i]
			pod := r.Name
			if r.Namespace != "" {
				pod = r.Namespace + "/" + pod
			}
			code := ""
			if r.ResponseCode != 0 {
				code = fmt.Sprint(r.ResponseCode)
			}
			t.add(c.full(r.Time), r.K8sUser, r.Subresource, pod, r.Container, code, r.Command)
		}
	default:
		t.cols = []tableCol{{title: "TIME"}, {title: "SOURCE"}, {title: "HOST", give: 1}, {title: "SCOPE", give: 1, min: 12}, {title: "SUMMARY", give: 2, min: 24}}
		for i := range recs {
			r := &recs[i]
			t.add(c.full(r.Time), string(r.Source), r.Host, scope(r), summary(r))
		}
	}
	return t
}

// logRecords runs a log query and decodes its records, in the query's
// direction.
func logRecords(ctx context.Context, c *loki.Client, req logql.Request) ([]record.Record, error) {
	dir := loki.Direction(req.Direction)
	resp, err := c.QueryRange(ctx, loki.RangeQuery{Query: req.Query, Start: req.Start, End: req.End, Limit: req.Limit, Direction: dir})
	if err != nil {
		return nil, err
	}
	if t := resp.Data.ResultType; t != loki.ResultTypeStreams {
		return nil, fmt.Errorf("query loki: got a %s result, want streams", t)
	}
	recs, err := record.FromStreams(resp.Data.Streams, dir)
	if err != nil {
		return nil, fmt.Errorf("query loki: %w", err)
	}
	return recs, nil
}

// connHint adds what to do when nothing listens at the default address.
func connHint(err error, c *connFlags) error {
	if !c.set() && errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w\n(nothing listens on %s: start the collector or `collector store`, or give --loki-url)", err, defaultQueryURL)
	}
	return err
}
