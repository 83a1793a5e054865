package syntax

import "time"

// parseLogExpr parses a selector and its pipeline, possibly parenthesised.
func (p *parser) parseLogExpr() *LogExpr {
	if t := p.peek(); t.kind == tLParen {
		p.enter(t)
		p.next()
		e := p.parseLogExpr()
		p.expect(tRParen, ")")
		p.leave()
		return e
	}
	sel := p.parseSelector()
	return &LogExpr{Matchers: sel, Stages: p.parsePipeline()}
}

// parseSelector parses `{name op "value", …}`.
func (p *parser) parseSelector() []*Matcher {
	p.expect(tLBrace, "{")
	if p.peek().kind == tRBrace {
		p.next()
		return nil
	}
	var ms []*Matcher
	for {
		var name *token
		if len(ms) == 0 {
			name = p.expect(tIdent, "IDENTIFIER", "}")
		} else {
			name = p.expect(tIdent, "IDENTIFIER")
		}
		op := p.next()
		t, ok := matchTypes[op.kind]
		if !ok {
			p.fail(op, "=", "=~", "!~", "!=")
		}
		ms = append(ms, p.newMatcher(name.text, t, p.expect(tString, "STRING")))
		switch t := p.next(); t.kind {
		case tComma:
		case tRBrace:
			return ms
		default:
			p.fail(t, "}", ",")
		}
	}
}

var matchTypes = map[tokKind]MatchType{
	tEq: MatchEqual, tNeq: MatchNotEqual, tRe: MatchRegexp, tNre: MatchNotRegexp,
}

// newMatcher builds a matcher; an invalid regular expression is an error
// at its string.
func (p *parser) newMatcher(name string, t MatchType, value *token) *Matcher {
	m, err := NewMatcher(t, name, value.str)
	if err != nil {
		p.invalid(value, err.Error())
	}
	return m
}

// parsePipeline parses the stages that follow a selector, stopping at the
// first token that starts none.
func (p *parser) parsePipeline() []Stage {
	var stages []Stage
	for {
		t := p.peek()
		switch t.kind {
		case tPipeExact, tNeq, tPipeMatch, tNre:
			stages = append(stages, p.parseLineFilter())
		case tPipePattern, tNpa:
			p.unsupported(t, "pattern line filter "+t.text)
		case tPipe:
			p.next()
			stages = append(stages, p.parseStage())
		default:
			return stages
		}
	}
}

var lineFilterTypes = map[tokKind]LineFilterType{
	tPipeExact: Contains, tNeq: NotContains, tPipeMatch: Match, tNre: NotMatch,
}

func (p *parser) parseLineFilter() Stage {
	op := p.next()
	if t := p.peek(); t.kind == tFunc && t.text == "ip" {
		p.unsupported(t, "ip() line filter")
	}
	v := p.expect(tString, "STRING", "ip")
	f, err := NewLineFilter(lineFilterTypes[op.kind], v.str)
	if err != nil {
		p.invalid(v, err.Error())
	}
	if t := p.peek(); t.kind == tOr {
		p.unsupported(t, "or between line filter strings")
	}
	return f
}

// parseStage parses what follows a `|`.
func (p *parser) parseStage() Stage {
	t := p.peek()
	switch t.kind {
	case tJSON:
		return p.parseJSON()
	case tIdent, tLParen:
		return &LabelFilterStage{Pred: p.parsePred()}
	case tLogfmt, tRegexp, tPattern, tUnpack, tLineFmt, tLabelFmt,
		tDecolorize, tDrop, tKeep, tUnwrap:
		p.unsupported(t, t.text)
	}
	p.fail(t)
	return nil
}

// parseJSON parses `json` and its optional field list.
func (p *parser) parseJSON() Stage {
	p.next()
	st := &JSONStage{}
	if p.peek().kind != tIdent {
		return st
	}
	for {
		name := p.expect(tIdent, "IDENTIFIER")
		f := JSONField{Label: name.text, Expression: name.text}
		if p.peek().kind == tEq {
			p.next()
			f.Expression = p.expect(tString, "STRING").str
		}
		st.Fields = append(st.Fields, f)
		if p.peek().kind != tComma {
			return st
		}
		p.next()
	}
}

// predOp is a connective between label filter predicates.
type predOp int

const (
	opNone predOp = iota
	opAnd
	opOr
	opComma
	opJuxt // two predicates side by side
)

// reduceFirst reports whether the pending connective top binds before next
// is read. This reproduces how Loki's yacc grammar resolves its conflicts:
// `and` binds tighter than `or`, both are left-associative, and `,` or
// juxtaposition take everything to their right (`a, b or c` is
// `a and (b or c)`).
func reduceFirst(top, next predOp) bool {
	switch top {
	case opAnd:
		return next == opAnd || next == opOr || next == opNone
	case opOr:
		return next == opOr || next == opNone
	}
	return next == opNone
}

// parsePred parses a label filter predicate with an operator stack.
func (p *parser) parsePred() Pred {
	operands := []Pred{p.parsePredOperand()}
	var ops []predOp
	for {
		var op predOp
		switch p.peek().kind {
		case tAnd:
			op = opAnd
		case tOr:
			op = opOr
		case tComma:
			op = opComma
		case tIdent, tLParen:
			op = opJuxt
		}
		for len(ops) > 0 && reduceFirst(ops[len(ops)-1], op) {
			n := len(operands)
			var c Pred = &AndPred{Left: operands[n-2], Right: operands[n-1]}
			if ops[len(ops)-1] == opOr {
				c = &OrPred{Left: operands[n-2], Right: operands[n-1]}
			}
			operands = append(operands[:n-2], c)
			ops = ops[:len(ops)-1]
		}
		if op == opNone {
			return operands[0]
		}
		if op != opJuxt {
			p.next()
		}
		ops = append(ops, op)
		operands = append(operands, p.parsePredOperand())
	}
}

// parsePredOperand parses a comparison or a parenthesised predicate.
func (p *parser) parsePredOperand() Pred {
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.enter(t)
		p.next()
		pr := p.parsePred()
		p.expect(tRParen)
		p.leave()
		return pr
	case tIdent:
		return p.parseComparison()
	}
	p.fail(t, "IDENTIFIER", "(")
	return nil
}

var compareOps = map[tokKind]CompareOp{
	tEq: Eq, tCmpEq: Eq, tNeq: Neq, tLt: Lt, tLte: Lte, tGt: Gt, tGte: Gte,
}

// parseComparison parses `name op value`.
func (p *parser) parseComparison() Pred {
	name := p.next()
	op := p.next()
	switch op.kind {
	case tRe, tNre:
		return &StringPred{Matcher: p.newMatcher(name.text, matchTypes[op.kind], p.expect(tString, "STRING"))}
	case tEq, tNeq, tCmpEq, tLt, tLte, tGt, tGte:
	default:
		p.fail(op)
	}
	v := p.peek()
	switch v.kind {
	case tString:
		if op.kind == tEq || op.kind == tNeq {
			p.next()
			return &StringPred{Matcher: p.newMatcher(name.text, matchTypes[op.kind], v)}
		}
	case tNumber, tAdd, tSub:
		return &NumberPred{Name: name.text, Op: compareOps[op.kind], Value: p.parseNumber()}
	case tDuration:
		p.unsupported(v, "duration label filter")
	case tBytes:
		p.unsupported(v, "bytes label filter")
	case tFunc:
		if v.text == "ip" && (op.kind == tEq || op.kind == tNeq) {
			p.unsupported(v, "ip() label filter")
		}
	}
	p.fail(v)
	return nil
}

// parseLogRange parses the argument of a range aggregation in each of
// Loki's forms: `{…} | … [5m]`, `{…}[5m] | …`, `({…} | …)[5m]` and any of
// them in parentheses; `offset` after the range is rejected.
func (p *parser) parseLogRange(expecting ...string) (*LogExpr, time.Duration) {
	t := p.peek()
	switch t.kind {
	case tLBrace:
		sel := p.parseSelector()
		if p.peek().kind == tRange {
			return p.rangeThenPipeline(sel)
		}
		e := &LogExpr{Matchers: sel, Stages: p.parsePipeline()}
		return e, p.parseRange()
	case tLParen:
		p.enter(t)
		p.next()
		var e *LogExpr
		var rng time.Duration
		if p.peek().kind != tLBrace {
			e, rng = p.parseLogRange("{", "(")
		} else if sel := p.parseSelector(); p.peek().kind == tRange {
			e, rng = p.rangeThenPipeline(sel)
		} else {
			e = &LogExpr{Matchers: sel, Stages: p.parsePipeline()}
			if p.peek().kind != tRange { // ({…} | …)[5m]
				p.expect(tRParen)
				rng = p.expect(tRange, "RANGE").dur
				p.parseOffset()
				p.leave()
				return e, rng
			}
			rng = p.parseRange()
		}
		p.expect(tRParen, ")")
		p.leave()
		return e, rng
	}
	p.fail(t, expecting...)
	return nil, 0
}

// rangeThenPipeline parses `[5m] [offset …] | …` after a selector.
func (p *parser) rangeThenPipeline(sel []*Matcher) (*LogExpr, time.Duration) {
	rng := p.parseRange()
	return &LogExpr{Matchers: sel, Stages: p.parsePipeline()}, rng
}

// parseRange parses a range and an optional offset.
func (p *parser) parseRange() time.Duration {
	rng := p.expect(tRange).dur
	p.parseOffset()
	return rng
}

// parseOffset rejects `offset DURATION`.
func (p *parser) parseOffset() {
	if t := p.peek(); t.kind == tOffset {
		p.next()
		p.expect(tDuration, "DURATION")
		p.unsupported(t, "offset")
	}
}
