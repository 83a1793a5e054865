package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/timerange"
)

// runLogQL prints the LogQL a filter compiles to.
func runLogQL(_ context.Context, args []string, stdio IO) error {
	fs := newFlagSet("logql", "FILTER  (with --kind trace: SESSION)", stdio.Err)
	var sources sourcesFlag
	fs.Var(&sources, "sources", "sources to select, comma-separated: cmd,net,kube_exec (default all)")
	kind := fs.String("kind", "list", "query to print: list, frequency, groups, trace or values")
	since := fs.String("since", "", "time range: from now minus this duration (e.g. 1h) to now")
	from := fs.String("from", "", "start of the time range: RFC 3339, Unix ms or now-1h (default now-1h)")
	to := fs.String("to", "", "end of the time range (default now)")
	limit := fs.Int("limit", 100, "most records a list query returns; most values a values query returns")
	step := fs.Duration("step", 0, "frequency step (default: one that fits the range)")
	by := fs.String("by", "namespace,workload,pod", "groups: fields to count by, comma-separated")
	fieldName := fs.String("field", "comm", "values: the field whose top values to count")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError("one FILTER argument, got %d (quote the filter: 'comm=\"grep\" pid=\"1\"')", len(pos))
	}
	arg := ""
	if len(pos) == 1 {
		arg = pos[0]
	}
	rng, err := timerange.FromFlags(*since, *from, *to, time.Now())
	if err != nil {
		return usageError("%v", err)
	}
	if *kind == "trace" {
		if arg == "" {
			return usageError("--kind trace needs a SESSION argument")
		}
		req, err := logql.Trace(arg, rng.From, rng.To)
		if err != nil {
			return usageError("%v", err)
		}
		_, err = fmt.Fprintln(stdio.Out, req.Query)
		return err
	}
	flt, err := parseFilter(arg)
	if err != nil {
		return err
	}
	scope := logql.Scope{Sources: sources, Filter: flt}
	var req logql.Request
	switch *kind {
	case "list":
		req, err = logql.Events(scope, rng.From, rng.To, *limit)
	case "frequency":
		req, err = logql.Frequency(scope, rng.From, rng.To, *step)
	case "groups":
		req, err = logql.Groups(scope, strings.Split(*by, ","), rng.From, rng.To)
	case "values":
		req, err = logql.Values(scope, *fieldName, *limit, rng.From, rng.To)
	default:
		return usageError("unknown --kind %q: use list, frequency, groups, trace or values", *kind)
	}
	if err != nil {
		return usageError("%v", err)
	}
	_, err = fmt.Fprintln(stdio.Out, req.Query)
	return err
}
