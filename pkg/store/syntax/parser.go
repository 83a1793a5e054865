package syntax

import (
	"fmt"
	"strconv"
)

// maxDepth bounds the nesting of parentheses and aggregations, so that a
// hostile query cannot exhaust the stack.
const maxDepth = 1000

// Parse parses a LogQL query. Its errors are *ParseError (not LogQL, worded
// as Loki words it) or *UnsupportedError (LogQL the embedded store does not
// evaluate).
func Parse(query string) (Expr, error) {
	p := &parser{toks: lex(query)}
	e, err := p.parse()
	if err != nil {
		return nil, err
	}
	if err := checkSelectors(e); err != nil {
		return nil, err
	}
	return e, nil
}

// parser is a recursive-descent parser over the token list. Errors are
// raised as panics of *ParseError or *UnsupportedError and recovered in
// parse.
type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) parse() (e Expr, err error) {
	defer func() {
		switch x := recover().(type) {
		case nil:
		case *ParseError:
			e, err = nil, x
		case *UnsupportedError:
			e, err = nil, x
		default:
			panic(x)
		}
	}()
	if p.startsLogExpr() {
		e = p.parseLogExpr()
	} else {
		e = p.parseMetricExpr(0)
	}
	if t := p.peek(); t.kind != tEOF {
		p.fail(t)
	}
	return e, nil
}

// peek returns the next token, raising it if it is a lexical error.
func (p *parser) peek() *token {
	t := &p.toks[p.i]
	if t.kind == tError {
		panic(t.err)
	}
	return t
}

// peekAt returns the token n places after the next one, without raising
// errors.
func (p *parser) peekAt(n int) *token {
	if p.i+n >= len(p.toks) {
		return &p.toks[len(p.toks)-1]
	}
	return &p.toks[p.i+n]
}

func (p *parser) next() *token {
	t := p.peek()
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// expect consumes a token of kind k or fails, listing what was expected.
func (p *parser) expect(k tokKind, expecting ...string) *token {
	t := p.peek()
	if t.kind != k {
		p.fail(t, expecting...)
	}
	p.i++
	return t
}

// fail raises a syntax error at t.
func (p *parser) fail(t *token, expecting ...string) {
	panic(syntaxError(t, expecting))
}

// invalid raises a (semantic) parse error at t.
func (p *parser) invalid(t *token, msg string) {
	panic(&ParseError{Line: t.line, Col: t.col, Msg: msg})
}

// unsupported raises an UnsupportedError for the construct at t.
func (p *parser) unsupported(t *token, construct string) {
	panic(&UnsupportedError{Line: t.line, Col: t.col, Construct: construct})
}

func (p *parser) enter(t *token) {
	if p.depth++; p.depth > maxDepth {
		p.invalid(t, fmt.Sprintf("expression nested too deeply (more than %d levels)", maxDepth))
	}
}

func (p *parser) leave() { p.depth-- }

// startsLogExpr reports whether the query is a log query: a selector,
// possibly in parentheses.
func (p *parser) startsLogExpr() bool {
	for _, t := range p.toks[p.i:] {
		if t.kind != tLParen {
			return t.kind == tLBrace
		}
	}
	return false
}

// Binary operators by precedence (Loki's, lowest first); only the
// arithmetic ones are supported.
var binaryOps = map[tokKind]int{
	tOr: 1, tAnd: 2, tUnless: 2,
	tCmpEq: 3, tNeq: 3, tLt: 3, tLte: 3, tGt: 3, tGte: 3,
	tAdd: 4, tSub: 4, tMul: 5, tDiv: 5, tMod: 5, tPow: 6,
}

// parseMetricExpr parses operands joined by binary operators of precedence
// at least minPrec (precedence climbing; ^ is right-associative).
func (p *parser) parseMetricExpr(minPrec int) Expr {
	lhs := p.parseMetricOperand()
	for {
		op := p.peek()
		prec, ok := binaryOps[op.kind]
		if !ok || prec < minPrec {
			return lhs
		}
		switch {
		case prec <= 2:
			p.unsupported(op, "set operator "+op.text)
		case prec == 3:
			p.unsupported(op, "comparison operator "+op.text)
		}
		p.next()
		switch m := p.peek(); m.kind {
		case tBool:
			p.unsupported(m, "bool modifier")
		case tOn, tIgnoring:
			p.unsupported(m, m.text+"() vector matching")
		}
		next := prec + 1
		if op.kind == tPow {
			next = prec
		}
		p.enter(op)
		rhs := p.parseMetricExpr(next)
		p.leave()
		lhs = &BinaryExpr{Op: op.text, LHS: lhs, RHS: rhs}
	}
}

// Function names by how they are treated.
var (
	rangeOps = map[string]bool{
		"count_over_time": true, "rate": true, "bytes_over_time": true, "bytes_rate": true,
	}
	vectorOps = map[string]bool{
		"sum": true, "count": true, "max": true, "min": true, "avg": true,
		"topk": true, "bottomk": true,
	}
	unsupportedFuncs = map[string]bool{
		"rate_counter": true, "avg_over_time": true, "sum_over_time": true,
		"min_over_time": true, "max_over_time": true, "stdvar_over_time": true,
		"stddev_over_time": true, "quantile_over_time": true, "first_over_time": true,
		"last_over_time": true, "absent_over_time": true, "stddev": true,
		"stdvar": true, "sort": true, "sort_desc": true, "approx_topk": true,
		"label_replace": true,
	}
)

// parseMetricOperand parses a number, a parenthesised metric expression,
// an aggregation or vector(n).
func (p *parser) parseMetricOperand() Expr {
	t := p.peek()
	switch t.kind {
	case tNumber, tAdd, tSub:
		return &NumberExpr{Value: p.parseNumber()}
	case tLParen:
		p.enter(t)
		p.next()
		e := p.parseMetricExpr(0)
		p.expect(tRParen)
		p.leave()
		return e
	case tVariants:
		p.unsupported(t, "variants")
	case tFunc:
		switch {
		case rangeOps[t.text]:
			return p.parseRangeAgg()
		case vectorOps[t.text]:
			return p.parseVectorAgg()
		case t.text == "vector":
			return p.parseVector()
		case unsupportedFuncs[t.text]:
			p.unsupported(t, t.text)
		}
	}
	p.fail(t)
	return nil
}

// parseNumber parses a number literal with an optional sign.
func (p *parser) parseNumber() float64 {
	sign := 1.0
	switch p.peek().kind {
	case tSub:
		sign = -1
		p.next()
	case tAdd:
		p.next()
	}
	n := p.expect(tNumber, "NUMBER")
	v, err := strconv.ParseFloat(n.text, 64)
	if err != nil {
		p.invalid(n, "unable to parse literal as a float: "+err.Error())
	}
	return sign * v
}

func (p *parser) parseVector() Expr {
	p.next()
	p.expect(tLParen, "(")
	n := p.expect(tNumber, "NUMBER")
	p.expect(tRParen, ")")
	v, err := strconv.ParseFloat(n.text, 64)
	if err != nil {
		p.invalid(n, "unable to parse vectorExpr as a float: "+err.Error())
	}
	return &VectorExpr{Value: v}
}

// parseRangeAgg parses `op(logRange)`.
func (p *parser) parseRangeAgg() Expr {
	fn := p.next()
	p.enter(fn)
	p.expect(tLParen, "(")
	if t := p.peek(); t.kind == tNumber {
		p.next()
		p.expect(tComma, ",")
		p.invalid(t, fmt.Sprintf("parameter %s not supported for operation %s", t.text, fn.text))
	}
	log, rng := p.parseLogRange("NUMBER", "{", "(")
	p.expect(tRParen, ")")
	if g := p.peek(); g.kind == tBy || g.kind == tWithout {
		p.parseGrouping()
		p.invalid(g, "grouping not allowed for "+fn.text+" aggregation")
	}
	p.leave()
	return &RangeAggExpr{Op: fn.text, Log: log, Range: rng}
}

// parseVectorAgg parses `op [grouping] ([k,] expr) [grouping]`.
func (p *parser) parseVectorAgg() Expr {
	fn := p.next()
	p.enter(fn)
	agg := &VectorAggExpr{Op: fn.text}
	open := []string{"(", "by", "without"}
	if k := p.peek().kind; k == tBy || k == tWithout {
		agg.Grouping = p.parseGrouping()
		open = open[:1]
	}
	p.expect(tLParen, open...)
	var param *token
	if t := p.peek(); t.kind == tNumber && p.peekAt(1).kind == tComma {
		param = t
		p.i += 2
	}
	agg.Inner = p.parseMetricExpr(0)
	p.expect(tRParen)
	if k := p.peek().kind; agg.Grouping == nil && (k == tBy || k == tWithout) {
		agg.Grouping = p.parseGrouping()
	}
	p.checkParam(fn, param, agg)
	p.leave()
	return agg
}

// checkParam checks the k of topk and bottomk (and its absence elsewhere)
// as Loki does, with Loki's messages.
func (p *parser) checkParam(fn, param *token, agg *VectorAggExpr) {
	if fn.text != "topk" && fn.text != "bottomk" {
		if param != nil {
			p.invalid(param, fmt.Sprintf("unsupported parameter for operation %s(%s,", fn.text, param.text))
		}
		return
	}
	if param == nil {
		p.invalid(fn, "parameter required for operation "+fn.text)
	}
	k, err := strconv.Atoi(param.text)
	if err != nil {
		p.invalid(param, fmt.Sprintf("invalid parameter %s(%s,", fn.text, param.text))
	}
	if k <= 0 {
		p.invalid(param, fmt.Sprintf("invalid parameter (must be greater than 0) %s(%s", fn.text, param.text))
	}
	agg.Param = k
}

// parseGrouping parses `by (a, b)` or `without (a)`.
func (p *parser) parseGrouping() *Grouping {
	g := &Grouping{Without: p.next().kind == tWithout}
	p.expect(tLParen, "(")
	if p.peek().kind == tRParen {
		p.next()
		return g
	}
	for {
		var name *token
		if len(g.Labels) == 0 {
			name = p.expect(tIdent, "IDENTIFIER", ")")
		} else {
			name = p.expect(tIdent, "IDENTIFIER")
		}
		g.Labels = append(g.Labels, name.text)
		switch t := p.next(); t.kind {
		case tComma:
		case tRParen:
			return g
		default:
			p.fail(t, ",", ")")
		}
	}
}

// checkSelectors applies Loki's rule that every selector needs a matcher
// that does not match the empty string.
func checkSelectors(e Expr) error {
	switch x := e.(type) {
	case *LogExpr:
		for _, m := range x.Matchers {
			if !m.Matches("") {
				return nil
			}
		}
		return &ParseError{Msg: errEmptyCompatible}
	case *RangeAggExpr:
		return checkSelectors(x.Log)
	case *VectorAggExpr:
		return checkSelectors(x.Inner)
	case *BinaryExpr:
		if err := checkSelectors(x.LHS); err != nil {
			return err
		}
		return checkSelectors(x.RHS)
	}
	return nil
}
