package cli

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
)

// group is one value of a grouping level, with its count and the groups
// of the next level under it.
type group struct {
	Field  string   `json:"field"`
	Value  string   `json:"value"`
	Count  int64    `json:"count"`
	Groups []*group `json:"groups,omitempty"`

	index map[string]*group // Groups by value
}

// child is the group of value v under g, added when new.
func (g *group) child(field, v string) *group {
	if c, ok := g.index[v]; ok {
		return c
	}
	if g.index == nil {
		g.index = map[string]*group{}
	}
	c := &group{Field: field, Value: v}
	g.index[v] = c
	g.Groups = append(g.Groups, c)
	return c
}

// groupsDoc is the --json answer.
type groupsDoc struct {
	By     []string `json:"by"`
	From   string   `json:"from"`
	To     string   `json:"to"`
	Total  int64    `json:"total"`
	Groups []*group `json:"groups"`
}

// runGroups counts records by namespace > workload > pod (or --by).
func runGroups(ctx context.Context, args []string, stdio IO) error {
	fs := newFlagSet("groups", "[FILTER]", stdio.Err)
	var conn connFlags
	conn.register(fs, false)
	var sources sourcesFlag
	fs.Var(&sources, "sources", "sources to count, comma-separated: cmd,net,kube_exec (default all)")
	var rf rangeFlags
	rf.register(fs, "now-1h")
	by := fs.String("by", strings.Join(logql.ByWorkload, ","), "fields to group by, outermost first, comma-separated (e.g. host,container_id)")
	var view viewFlags
	view.register(fs, "print the groups as one JSON document", "")
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
	var fields []string
	for _, f := range strings.Split(*by, ",") {
		if f = strings.TrimSpace(f); f != "" {
			fields = append(fields, f)
		}
	}
	rng, err := rf.resolve(time.Now())
	if err != nil {
		return err
	}
	req, err := logql.Groups(logql.Scope{Sources: sources, Filter: flt}, fields, rng.From, rng.To)
	if err != nil {
		return usageError("--by: %v", err)
	}
	client, err := conn.queryClient()
	if err != nil {
		return err
	}
	resp, err := client.Query(ctx, loki.InstantQuery{Query: req.Query, Time: req.Time})
	if err != nil {
		return connHint(err, &conn)
	}
	if t := resp.Data.ResultType; t != loki.ResultTypeVector {
		return fmt.Errorf("query loki: got a %s result, want a vector", t)
	}
	top, total := groupTree(resp.Data.Vector, fields)
	c := newClock(view.local)
	out := bufio.NewWriter(stdio.Out)
	if view.json {
		doc := groupsDoc{By: fields, From: c.full(rng.From.UnixNano()), To: c.full(rng.To.UnixNano()), Total: total, Groups: top}
		if doc.Groups == nil {
			doc.Groups = []*group{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else if total > 0 {
		writeGroups(out, fields, top, total)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if total == 0 {
		fmt.Fprintf(stdio.Err, "no records match between %s and %s\n", c.full(rng.From.UnixNano()), c.full(rng.To.UnixNano()))
	}
	return nil
}

// groupTree nests the counts by the fields, each level by count, largest
// first (then by value, empty values last).
func groupTree(samples []loki.Sample, fields []string) ([]*group, int64) {
	var root group
	for _, s := range samples {
		n := int64(math.Round(s.Value.Value))
		if n <= 0 {
			continue
		}
		root.Count += n
		g := &root
		for _, f := range fields {
			g = g.child(f, s.Metric[f])
			g.Count += n
		}
	}
	var sortLevel func([]*group)
	sortLevel = func(gs []*group) {
		slices.SortFunc(gs, func(a, b *group) int {
			if c := cmp.Compare(b.Count, a.Count); c != 0 {
				return c
			}
			if (a.Value == "") != (b.Value == "") {
				return cmp.Compare(b.Value, a.Value) // "" last
			}
			return cmp.Compare(a.Value, b.Value)
		})
		for _, g := range gs {
			sortLevel(g.Groups)
		}
	}
	sortLevel(root.Groups)
	return root.Groups, root.Count
}

// writeGroups prints the tree, counts first, two spaces of indent a level.
// A chain of empty values (host records have no namespace, workload or
// pod) shows as its first level only.
func writeGroups(w io.Writer, fields []string, top []*group, total int64) {
	width := len(fmt.Sprint(total))
	width = max(width, len("COUNT"))
	titles := make([]string, len(fields))
	for i, f := range fields {
		titles[i] = strings.ToUpper(f)
	}
	fmt.Fprintf(w, "%*s  %s\n", width, "COUNT", strings.Join(titles, " > "))
	var walk func(gs []*group, depth int)
	walk = func(gs []*group, depth int) {
		for _, g := range gs {
			v := g.Value
			if v == "" {
				v = "(no " + g.Field + ")"
			}
			fmt.Fprintf(w, "%*d  %s%s\n", width, g.Count, strings.Repeat("  ", depth), printable(v))
			if g.Value == "" && emptyChain(g) {
				continue
			}
			walk(g.Groups, depth+1)
		}
	}
	walk(top, 0)
	fmt.Fprintf(w, "%*d  total\n", width, total)
}

// emptyChain reports whether everything under g is one chain of empty values.
func emptyChain(g *group) bool {
	switch len(g.Groups) {
	case 0:
		return true
	case 1:
		return g.Groups[0].Value == "" && emptyChain(g.Groups[0])
	}
	return false
}
