package engine

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/store/storage"
	"github.com/activityaudit/activityaudit/pkg/store/stream"
	"github.com/activityaudit/activityaudit/pkg/store/syntax"
)

// stepGrid is the evaluation times of a metric query: start + k*step for k
// in [0, n). An instant query is a grid of one.
type stepGrid struct {
	start, step int64
	n           int
}

func (g stepGrid) time(k int) int64 { return g.start + int64(k)*g.step }
func (g stepGrid) last() int64      { return g.time(g.n - 1) }

// covering returns the steps whose window (t-rng, t] holds ts.
func (g stepGrid) covering(ts, rng int64) (lo, hi int) {
	// t_k >= ts  and  t_k < ts + rng
	lo = int(ceilDiv(ts-g.start, g.step))
	hi = int(ceilDiv(ts+rng-g.start, g.step)) - 1
	return max(lo, 0), min(hi, g.n-1)
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}

// point is one value of a series at step k.
type point struct {
	k int
	v float64
}

type series struct {
	labels stream.Labels
	pts    []point // sorted by k
}

// result is a metric value: series, or a scalar.
type result struct {
	series   []series
	isScalar bool
	scalar   float64
}

func (e *Engine) metric(ctx context.Context, expr syntax.Expr, g stepGrid) (*result, error) {
	switch x := expr.(type) {
	case *syntax.RangeAggExpr:
		return e.rangeAgg(ctx, x, g, nil)
	case *syntax.VectorAggExpr:
		if ra, ok := x.Inner.(*syntax.RangeAggExpr); ok && x.Op == "sum" && x.Grouping != nil && !x.Grouping.Without {
			// sum by over a count or byte sum is the same sum over fewer
			// series: group while counting.
			return e.rangeAgg(ctx, ra, g, x.Grouping.Labels)
		}
		inner, err := e.metric(ctx, x.Inner, g)
		if err != nil {
			return nil, err
		}
		if inner.isScalar {
			return nil, badRequest("parse error : unexpected scalar in aggregation %s", x.Op)
		}
		return aggregate(x, inner, g), nil
	case *syntax.VectorExpr:
		s := series{labels: stream.Labels{}}
		for k := 0; k < g.n; k++ {
			s.pts = append(s.pts, point{k, x.Value})
		}
		return &result{series: []series{s}}, nil
	case *syntax.NumberExpr:
		return &result{isScalar: true, scalar: x.Value}, nil
	case *syntax.BinaryExpr:
		l, err := e.metric(ctx, x.LHS, g)
		if err != nil {
			return nil, err
		}
		r, err := e.metric(ctx, x.RHS, g)
		if err != nil {
			return nil, err
		}
		return binary(x.Op, l, r), nil
	}
	return nil, badRequest("unsupported expression %s", expr.String())
}

// accumulator sums counts or bytes per series key and step.
type accumulator struct {
	g      stepGrid
	rng    int64
	bytes  bool // sum line bytes instead of counting
	dense  bool // per key one slot per step (few keys); else sparse, in time order
	keys   map[string]int
	labels []stream.Labels
	vals   [][]float64 // dense
	pts    [][]point   // sparse
}

func newAccumulator(g stepGrid, rng int64, bytes, dense bool) *accumulator {
	return &accumulator{g: g, rng: rng, bytes: bytes, dense: dense, keys: map[string]int{}}
}

func (a *accumulator) slot(key string, labels func() stream.Labels) int {
	i, ok := a.keys[key]
	if !ok {
		i = a.insert(strings.Clone(key), labels)
	}
	return i
}

// slotBytes is slot for a key in a reused buffer: looking it up does not
// allocate; only a new series' key is copied.
func (a *accumulator) slotBytes(key []byte, labels func() stream.Labels) int {
	i, ok := a.keys[string(key)]
	if !ok {
		i = a.insert(string(key), labels)
	}
	return i
}

func (a *accumulator) insert(key string, labels func() stream.Labels) int {
	i := len(a.labels)
	a.keys[key] = i
	a.labels = append(a.labels, labels())
	if a.dense {
		a.vals = append(a.vals, make([]float64, a.g.n))
	} else {
		a.pts = append(a.pts, nil)
	}
	return i
}

func (a *accumulator) add(i int, ts int64, size uint32) {
	v := 1.0
	if a.bytes {
		v = float64(size)
	}
	lo, hi := a.g.covering(ts, a.rng)
	if a.dense {
		vals := a.vals[i]
		for k := lo; k <= hi; k++ {
			vals[k] += v
		}
		return
	}
	pts := a.pts[i]
	for k := lo; k <= hi; k++ {
		// Entries come in time order, so step k is at the tail or new.
		j := len(pts) - 1
		for j >= 0 && pts[j].k > k {
			j--
		}
		if j >= 0 && pts[j].k == k {
			pts[j].v += v
		} else {
			pts = slices.Insert(pts, j+1, point{k, v})
		}
	}
	a.pts[i] = pts
}

// merge adds b (over the same grid) into a.
func (a *accumulator) merge(b *accumulator) {
	for key, j := range b.keys {
		i := a.slot(key, func() stream.Labels { return b.labels[j] })
		if a.dense {
			for k, v := range b.vals[j] {
				a.vals[i][k] += v
			}
			continue
		}
		a.pts[i] = mergePoints(a.pts[i], b.pts[j])
	}
}

func mergePoints(x, y []point) []point {
	out := make([]point, 0, len(x)+len(y))
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case j == len(y) || (i < len(x) && x[i].k < y[j].k):
			out = append(out, x[i])
			i++
		case i == len(x) || y[j].k < x[i].k:
			out = append(out, y[j])
			j++
		default:
			out = append(out, point{x[i].k, x[i].v + y[j].v})
			i++
			j++
		}
	}
	return out
}

// series returns the accumulated series, each value divided by per.
func (a *accumulator) series(per float64) []series {
	out := make([]series, 0, len(a.labels))
	for i, ls := range a.labels {
		s := series{labels: ls}
		if a.dense {
			for k, v := range a.vals[i] {
				if v != 0 {
					s.pts = append(s.pts, point{k, v / per})
				}
			}
		} else {
			s.pts = a.pts[i]
			if per != 1 {
				for j := range s.pts {
					s.pts[j].v /= per
				}
			}
		}
		if len(s.pts) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// rangeAgg evaluates count_over_time, rate, bytes_over_time or bytes_rate at
// every step; with by, the series are summed by those labels as they count.
func (e *Engine) rangeAgg(ctx context.Context, x *syntax.RangeAggExpr, g stepGrid, by []string) (*result, error) {
	rng := int64(x.Range)
	from, through := g.start-rng+1, g.last()+1
	bytes := x.Op == "bytes_over_time" || x.Op == "bytes_rate"
	per := 1.0 // rates divide by the range in seconds, as Loki does
	if x.Op == "rate" || x.Op == "bytes_rate" {
		per = x.Range.Seconds()
	}
	streams := e.selectStreams(x.Log.Matchers, from, through)
	if len(streams) == 0 {
		return &result{}, nil
	}
	var acc *accumulator
	var err error
	if by != nil && e.pointsServe(x.Log, streams, by) {
		acc = e.fromPoints(x.Log, streams, g, rng, bytes, by, from, through)
	} else {
		acc, err = e.fromScan(ctx, x.Log, streams, g, rng, bytes, by, from, through)
		if err != nil {
			return nil, err
		}
	}
	if len(acc.labels) > e.MaxSeries {
		return nil, badRequest("maximum of series (%d) reached for a single query", e.MaxSeries)
	}
	return &result{series: acc.series(per)}, nil
}

// pointsServe reports whether the in-memory point index can answer: every
// stage is a label filter (no parser, no line filter) and every label a
// filter or the grouping names is a stream label of the selected streams or
// metadata the point index keeps.
func (e *Engine) pointsServe(q *syntax.LogExpr, streams map[uint32]stream.Labels, by []string) bool {
	known := func(name string) bool {
		if slices.Contains(e.groupMeta, name) {
			return true
		}
		for _, ls := range streams {
			if ls.Has(name) {
				return true
			}
		}
		return false
	}
	for _, name := range by {
		if !known(name) {
			return false
		}
	}
	for _, st := range q.Stages {
		lf, ok := st.(*syntax.LabelFilterStage)
		if !ok || !predOn(lf.Pred, known) {
			return false
		}
	}
	return true
}

func predOn(p syntax.Pred, known func(string) bool) bool {
	switch p := p.(type) {
	case *syntax.AndPred:
		return predOn(p.Left, known) && predOn(p.Right, known)
	case *syntax.OrPred:
		return predOn(p.Left, known) && predOn(p.Right, known)
	case *syntax.StringPred:
		return known(p.Matcher.Name)
	}
	return false
}

// fromPoints counts from the point index.
func (e *Engine) fromPoints(q *syntax.LogExpr, streams map[uint32]stream.Labels, g stepGrid, rng int64, bytes bool, by []string, from, through int64) *accumulator {
	acc := newAccumulator(g, rng, bytes, true)
	type pair struct{ stream, group uint32 }
	slots := map[pair]int{} // -1: filtered out
	pl := newPipeline(q.Stages)
	var l entryLabels
	e.db.Points(from, through, func(sid, gid uint32, ts int64, size uint32) {
		key := pair{sid, gid}
		i, ok := slots[key]
		if !ok {
			i = -1
			if sl, sel := streams[sid]; sel {
				l.reset(sl, e.db.Group(gid))
				if pl.run("", &l) {
					proj := project(l.all(), by)
					i = acc.slot(proj.String(), func() stream.Labels { return proj })
				}
			}
			slots[key] = i
		}
		if i >= 0 {
			acc.add(i, ts, size)
		}
	})
	return acc
}

// fromScan counts by reading the entries through the pipeline, two halves
// of the range in parallel.
func (e *Engine) fromScan(ctx context.Context, q *syntax.LogExpr, streams map[uint32]stream.Labels, g stepGrid, rng int64, bytes bool, by []string, from, through int64) (*accumulator, error) {
	sq := e.scanQuery(q, streams, from, through)
	parts := 1
	if sq.Metadata == nil && through-from > int64(2*60e9) {
		parts = 2
	}
	sortedBy := slices.Clone(by)
	slices.Sort(sortedBy)
	accs := make([]*accumulator, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		part := sq
		part.From = from + (through-from)*int64(i)/int64(parts)
		part.Through = from + (through-from)*int64(i+1)/int64(parts)
		acc := newAccumulator(g, rng, bytes, by != nil)
		accs[i] = acc
		wg.Add(1)
		go func() {
			defer wg.Done()
			pl := newPipeline(q.Stages)
			var l entryLabels
			var kb []byte // the series key, reused from entry to entry
			errs[i] = e.db.Scan(ctx, part, func(h storage.Hit) bool {
				sl, ok := streams[h.Stream]
				if !ok {
					return true
				}
				l.reset(sl, h.Metadata)
				if !pl.run(h.Line, &l) {
					return true
				}
				kb = kb[:0]
				var slot int
				if by != nil {
					// Only the grouping labels matter: no need to build the full set.
					for _, name := range sortedBy {
						if v, _ := l.get(name); v != "" {
							kb = appendKeyLabel(kb, name, v)
						}
					}
					slot = acc.slotBytes(kb, func() stream.Labels { return cloneLabels(projectFrom(&l, sortedBy)) })
				} else {
					ls := l.all()
					for _, lb := range ls {
						kb = appendKeyLabel(kb, lb.Name, lb.Value)
					}
					slot = acc.slotBytes(kb, func() stream.Labels { return cloneLabels(ls) })
				}
				acc.add(slot, h.Time, uint32(len(h.Line)))
				return len(acc.labels) <= e.MaxSeries
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, b := range accs[1:] {
		accs[0].merge(b)
	}
	return accs[0], nil
}

// appendKeyLabel appends a label to a series key: name and value, each
// followed by a zero byte.
func appendKeyLabel(b []byte, name, value string) []byte {
	b = append(append(b, name...), 0)
	return append(append(b, value...), 0)
}

// project keeps the labels named in by (empty values dropped, as in Prometheus).
func project(ls stream.Labels, by []string) stream.Labels {
	out := stream.Labels{}
	for _, l := range ls {
		if l.Value != "" && slices.Contains(by, l.Name) {
			out = append(out, l)
		}
	}
	return out
}

// projectFrom is project over an entry's labels, by sorted.
func projectFrom(l *entryLabels, by []string) stream.Labels {
	out := stream.Labels{}
	for _, name := range by {
		if v, _ := l.get(name); v != "" {
			out = append(out, stream.Label{Name: name, Value: v})
		}
	}
	return out
}

// without drops the labels named in names.
func without(ls stream.Labels, names []string) stream.Labels {
	out := stream.Labels{}
	for _, l := range ls {
		if l.Value != "" && !slices.Contains(names, l.Name) {
			out = append(out, l)
		}
	}
	return out
}

// aggregate evaluates sum, count, max, min, avg, topk and bottomk.
func aggregate(x *syntax.VectorAggExpr, in *result, g stepGrid) *result {
	groupOf := func(ls stream.Labels) stream.Labels {
		switch {
		case x.Grouping == nil:
			return stream.Labels{}
		case x.Grouping.Without:
			return without(ls, x.Grouping.Labels)
		}
		return project(ls, x.Grouping.Labels)
	}
	if x.Op == "topk" || x.Op == "bottomk" {
		return selectK(x, in, groupOf)
	}
	type agg struct {
		sum, min, max float64
		n             int
	}
	type group struct {
		labels stream.Labels
		steps  map[int]*agg
	}
	groups := map[string]*group{}
	var order []string
	for _, s := range in.series {
		gl := groupOf(s.labels)
		key := gl.String()
		gr, ok := groups[key]
		if !ok {
			gr = &group{labels: gl, steps: map[int]*agg{}}
			groups[key] = gr
			order = append(order, key)
		}
		for _, p := range s.pts {
			a, ok := gr.steps[p.k]
			if !ok {
				a = &agg{min: p.v, max: p.v}
				gr.steps[p.k] = a
			}
			a.sum += p.v
			a.n++
			a.min = math.Min(a.min, p.v)
			a.max = math.Max(a.max, p.v)
		}
	}
	out := &result{}
	for _, key := range order {
		gr := groups[key]
		s := series{labels: gr.labels}
		for k := 0; k < g.n; k++ {
			a, ok := gr.steps[k]
			if !ok {
				continue
			}
			var v float64
			switch x.Op {
			case "sum":
				v = a.sum
			case "count":
				v = float64(a.n)
			case "max":
				v = a.max
			case "min":
				v = a.min
			case "avg":
				v = a.sum / float64(a.n)
			}
			s.pts = append(s.pts, point{k, v})
		}
		out.series = append(out.series, s)
	}
	return out
}

// selectK keeps, at every step and within every group, the k largest (topk)
// or smallest (bottomk) series.
func selectK(x *syntax.VectorAggExpr, in *result, groupOf func(stream.Labels) stream.Labels) *result {
	type cand struct {
		series int
		v      float64
	}
	byStep := map[int]map[string][]cand{}
	for i, s := range in.series {
		key := groupOf(s.labels).String()
		for _, p := range s.pts {
			if byStep[p.k] == nil {
				byStep[p.k] = map[string][]cand{}
			}
			byStep[p.k][key] = append(byStep[p.k][key], cand{i, p.v})
		}
	}
	kept := make([][]point, len(in.series))
	for k, groups := range byStep {
		for _, cs := range groups {
			slices.SortStableFunc(cs, func(a, b cand) int {
				if x.Op == "topk" {
					return cmpFloat(b.v, a.v)
				}
				return cmpFloat(a.v, b.v)
			})
			for _, c := range cs[:min(x.Param, len(cs))] {
				kept[c.series] = append(kept[c.series], point{k, c.v})
			}
		}
	}
	out := &result{}
	for i, pts := range kept {
		if len(pts) == 0 {
			continue
		}
		slices.SortFunc(pts, func(a, b point) int { return a.k - b.k })
		out.series = append(out.series, series{labels: in.series[i].labels, pts: pts})
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// binary evaluates arithmetic between scalars and vectors; vectors match
// one-to-one on identical label sets.
func binary(op string, l, r *result) *result {
	if l.isScalar && r.isScalar {
		return &result{isScalar: true, scalar: arith(op, l.scalar, r.scalar)}
	}
	if l.isScalar || r.isScalar {
		vec, sc, scalarLeft := r, l.scalar, true
		if r.isScalar {
			vec, sc, scalarLeft = l, r.scalar, false
		}
		out := &result{}
		for _, s := range vec.series {
			ns := series{labels: s.labels}
			for _, p := range s.pts {
				v := arith(op, p.v, sc)
				if scalarLeft {
					v = arith(op, sc, p.v)
				}
				ns.pts = append(ns.pts, point{p.k, v})
			}
			out.series = append(out.series, ns)
		}
		return out
	}
	right := map[string]series{}
	for _, s := range r.series {
		right[s.labels.String()] = s
	}
	out := &result{}
	for _, s := range l.series {
		rs, ok := right[s.labels.String()]
		if !ok {
			continue
		}
		ns := series{labels: s.labels}
		j := 0
		for _, p := range s.pts {
			for j < len(rs.pts) && rs.pts[j].k < p.k {
				j++
			}
			if j < len(rs.pts) && rs.pts[j].k == p.k {
				ns.pts = append(ns.pts, point{p.k, arith(op, p.v, rs.pts[j].v)})
			}
		}
		if len(ns.pts) > 0 {
			out.series = append(out.series, ns)
		}
	}
	return out
}

func arith(op string, a, b float64) float64 {
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	case "/":
		return a / b
	case "%":
		return math.Mod(a, b)
	case "^":
		return math.Pow(a, b)
	}
	return math.NaN()
}

func (r *result) sorted() []series {
	out := slices.Clone(r.series)
	slices.SortFunc(out, func(a, b series) int { return strings.Compare(a.labels.String(), b.labels.String()) })
	return out
}

// matrix is the answer of a range query.
func (r *result) matrix(g stepGrid) *loki.QueryData {
	d := &loki.QueryData{ResultType: loki.ResultTypeMatrix, Matrix: []loki.Series{}}
	if r.isScalar {
		s := loki.Series{Metric: map[string]string{}}
		for k := 0; k < g.n; k++ {
			s.Values = append(s.Values, loki.Point{Time: g.time(k) / 1e6, Value: r.scalar})
		}
		d.Matrix = append(d.Matrix, s)
		return d
	}
	for _, s := range r.sorted() {
		ls := loki.Series{Metric: s.labels.Map()}
		for _, p := range s.pts {
			ls.Values = append(ls.Values, loki.Point{Time: g.time(p.k) / 1e6, Value: p.v})
		}
		if len(ls.Values) > 0 {
			d.Matrix = append(d.Matrix, ls)
		}
	}
	return d
}

// vector is the answer of an instant query.
func (r *result) vector(g stepGrid) *loki.QueryData {
	t := g.time(0) / 1e6
	if r.isScalar {
		return &loki.QueryData{ResultType: loki.ResultTypeScalar, Scalar: &loki.Point{Time: t, Value: r.scalar}}
	}
	d := &loki.QueryData{ResultType: loki.ResultTypeVector, Vector: []loki.Sample{}}
	for _, s := range r.sorted() {
		for _, p := range s.pts {
			if p.k == 0 {
				d.Vector = append(d.Vector, loki.Sample{Metric: s.labels.Map(), Value: loki.Point{Time: t, Value: p.v}})
			}
		}
	}
	return d
}
