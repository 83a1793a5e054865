// Package syntax parses the subset of LogQL that the embedded store
// evaluates into an AST: log queries (stream selector, line filters,
// `| json`, label filters) and metric queries (count_over_time, rate,
// bytes_over_time, bytes_rate; sum, count, max, min, avg, topk, bottomk;
// vector(n), numbers and arithmetic).
//
// Syntax errors are *ParseError, positioned and worded as Loki 3.x words
// them; valid LogQL outside the subset (logfmt, unwrap, offset, …) is an
// *UnsupportedError naming the construct. String on any node prints
// canonical LogQL that Parse reads back to an equal AST.
package syntax

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Expr is a parsed query: *LogExpr, *RangeAggExpr, *VectorAggExpr,
// *VectorExpr, *NumberExpr or *BinaryExpr.
type Expr interface {
	// String prints the expression as canonical LogQL.
	String() string
	expr()
}

// LogExpr is a log query: a stream selector and a pipeline of stages. It is
// also the inside of a range aggregation.
type LogExpr struct {
	// Matchers of the stream selector, in query order.
	Matchers []*Matcher
	// Stages of the pipeline, in query order.
	Stages []Stage
}

// Stage is one pipeline stage: *LineFilter, *JSONStage or
// *LabelFilterStage.
type Stage interface {
	stage()
	// String prints the stage as LogQL, e.g. `|= "x"` or `| json`.
	String() string
}

// JSONStage is `| json`, extracting every field, or `| json a, b="c.d"`,
// extracting the fields listed.
type JSONStage struct {
	// Fields to extract; empty means every field.
	Fields []JSONField
}

// JSONField is one field of `| json`: `a` is {Label: "a", Expression: "a"};
// `a="b.c"` is {Label: "a", Expression: "b.c"}.
type JSONField struct {
	// Label is the name of the label the field is stored in.
	Label string
	// Expression is the JSON path text, as written (e.g. "b.c", `a[0]`).
	Expression string
}

// LabelFilterStage is `| predicate`, keeping the lines whose labels satisfy
// the predicate.
type LabelFilterStage struct {
	Pred Pred
}

// Pred is a label filter predicate: *AndPred, *OrPred, *StringPred or
// *NumberPred.
type Pred interface {
	pred()
	// String prints the predicate as LogQL.
	String() string
}

// AndPred holds when both sides hold (`and`, `,` or blanks in LogQL).
type AndPred struct{ Left, Right Pred }

// OrPred holds when either side holds (`or`).
type OrPred struct{ Left, Right Pred }

// StringPred compares a label with a string: `name op "value"` with
// = != =~ !~.
type StringPred struct{ Matcher *Matcher }

// NumberPred compares a label, read as a number, with a number:
// `name op 1.5` with == = != < <= > >=.
type NumberPred struct {
	Name  string
	Op    CompareOp
	Value float64
}

// CompareOp is the operator of a NumberPred.
type CompareOp int

// Comparison operators.
const (
	Eq  CompareOp = iota // == (or =)
	Neq                  // !=
	Lt                   // <
	Lte                  // <=
	Gt                   // >
	Gte                  // >=
)

// String returns the operator as written in LogQL.
func (o CompareOp) String() string {
	switch o {
	case Eq:
		return "=="
	case Neq:
		return "!="
	case Lt:
		return "<"
	case Lte:
		return "<="
	case Gt:
		return ">"
	case Gte:
		return ">="
	}
	return "CompareOp(" + strconv.Itoa(int(o)) + ")"
}

// RangeAggExpr is a range aggregation, `op(log [range])`.
type RangeAggExpr struct {
	// Op is count_over_time, rate, bytes_over_time or bytes_rate.
	Op    string
	Log   *LogExpr
	Range time.Duration
}

// VectorAggExpr is a vector aggregation, e.g. `sum by (a) (inner)` or
// `topk(5, inner)`.
type VectorAggExpr struct {
	// Op is sum, count, max, min, avg, topk or bottomk.
	Op string
	// Grouping is the by/without clause; nil when there is none.
	Grouping *Grouping
	// Param is k of topk and bottomk (at least 1); 0 for the others.
	Param int
	Inner Expr
}

// Grouping is `by (labels)` or `without (labels)`.
type Grouping struct {
	Without bool
	// Labels listed; nil for `by ()`.
	Labels []string
}

// VectorExpr is `vector(n)`.
type VectorExpr struct{ Value float64 }

// NumberExpr is a number literal.
type NumberExpr struct{ Value float64 }

// BinaryExpr is arithmetic between metric expressions and numbers.
type BinaryExpr struct {
	// Op is + - * / % or ^.
	Op       string
	LHS, RHS Expr
}

// IsLogQuery reports whether e is a log query (a *LogExpr) rather than a
// metric query.
func IsLogQuery(e Expr) bool {
	_, ok := e.(*LogExpr)
	return ok
}

func (*LogExpr) expr()       {}
func (*RangeAggExpr) expr()  {}
func (*VectorAggExpr) expr() {}
func (*VectorExpr) expr()    {}
func (*NumberExpr) expr()    {}
func (*BinaryExpr) expr()    {}

func (*LineFilter) stage()       {}
func (*JSONStage) stage()        {}
func (*LabelFilterStage) stage() {}

func (*AndPred) pred()    {}
func (*OrPred) pred()     {}
func (*StringPred) pred() {}
func (*NumberPred) pred() {}

// String prints the query, e.g. `{job="a"} | json | comm="bash"`.
func (e *LogExpr) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range e.Matchers {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.String())
	}
	b.WriteByte('}')
	for _, s := range e.Stages {
		b.WriteByte(' ')
		b.WriteString(s.String())
	}
	return b.String()
}

// String prints the stage, e.g. `| json a, b="c.d"`.
func (s *JSONStage) String() string {
	var b strings.Builder
	b.WriteString("| json")
	for i, f := range s.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		b.WriteString(f.Label)
		if f.Expression != f.Label {
			b.WriteByte('=')
			b.WriteString(strconv.Quote(f.Expression))
		}
	}
	return b.String()
}

// String prints the stage, e.g. `| a="b" or c > 1`.
func (s *LabelFilterStage) String() string { return "| " + s.Pred.String() }

// String prints the predicate; `or` inside `and` is parenthesised.
func (p *AndPred) String() string {
	l, r := p.Left.String(), p.Right.String()
	if _, ok := p.Left.(*OrPred); ok {
		l = "(" + l + ")"
	}
	switch p.Right.(type) {
	case *AndPred, *OrPred:
		r = "(" + r + ")"
	}
	return l + " and " + r
}

// String prints the predicate.
func (p *OrPred) String() string {
	r := p.Right.String()
	if _, ok := p.Right.(*OrPred); ok {
		r = "(" + r + ")"
	}
	return p.Left.String() + " or " + r
}

// String prints the predicate, e.g. `comm=~"ba?sh"`.
func (p *StringPred) String() string { return p.Matcher.String() }

// String prints the predicate, e.g. `server_port == 3306`.
func (p *NumberPred) String() string {
	return p.Name + " " + p.Op.String() + " " + formatNumber(p.Value)
}

// String prints the aggregation, e.g. `count_over_time({a="b"} | json [5m])`.
func (e *RangeAggExpr) String() string {
	sep := " "
	if len(e.Log.Stages) == 0 {
		sep = ""
	}
	return e.Op + "(" + e.Log.String() + sep + "[" + formatRange(e.Range) + "])"
}

// String prints the aggregation with its grouping first, e.g.
// `sum by (a) (…)` or `topk(5, …)`.
func (e *VectorAggExpr) String() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if g := e.Grouping; g != nil {
		b.WriteString(g.String())
		b.WriteByte(' ')
	}
	b.WriteByte('(')
	if e.Op == "topk" || e.Op == "bottomk" {
		b.WriteString(strconv.Itoa(e.Param))
		b.WriteString(", ")
	}
	b.WriteString(e.Inner.String())
	b.WriteByte(')')
	return b.String()
}

// String prints the grouping with a leading blank, e.g. ` by (a, b)`.
func (g *Grouping) String() string {
	kw := " by ("
	if g.Without {
		kw = " without ("
	}
	return kw + strings.Join(g.Labels, ", ") + ")"
}

// String prints `vector(n)`.
func (e *VectorExpr) String() string { return "vector(" + formatNumber(e.Value) + ")" }

// String prints the number.
func (e *NumberExpr) String() string { return formatNumber(e.Value) }

// String prints the expression with the parentheses its shape needs.
func (e *BinaryExpr) String() string {
	p := binaryPrec[e.Op]
	l, r := e.LHS.String(), e.RHS.String()
	if c, ok := e.LHS.(*BinaryExpr); ok {
		if cp := binaryPrec[c.Op]; cp < p || cp == p && e.Op == "^" {
			l = "(" + l + ")"
		}
	}
	if c, ok := e.RHS.(*BinaryExpr); ok {
		if cp := binaryPrec[c.Op]; cp < p || cp == p && e.Op != "^" {
			r = "(" + r + ")"
		}
	}
	return l + " " + e.Op + " " + r
}

// binaryPrec is the precedence of the arithmetic operators.
var binaryPrec = map[string]int{"+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "^": 6}

// formatNumber prints a number so that it reads back as a number: "-0"
// would read as a duration, as it does in Loki.
func formatNumber(v float64) string {
	if v == 0 && math.Signbit(v) {
		return "-0.0"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
