package syntax

import (
	"strconv"
	"strings"
	"time"
)

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tEOF tokKind = iota
	tError
	tIllegal // a character that starts no token; Loki calls it IDENTIFIER
	tIdent
	tString
	tNumber
	tDuration
	tBytes
	tRange
	tFunc // a function name followed by "(" (or by/without and "(")

	tLBrace
	tRBrace
	tLParen
	tRParen
	tRBracket
	tComma
	tDot

	tEq
	tNeq
	tRe
	tNre
	tNpa
	tPipeExact
	tPipeMatch
	tPipePattern
	tPipe

	tCmpEq
	tGt
	tGte
	tLt
	tLte
	tAdd
	tSub
	tMul
	tDiv
	tMod
	tPow

	tBy
	tWithout
	tBool
	tOffset
	tOn
	tIgnoring
	tGroupLeft
	tGroupRight
	tOr
	tAnd
	tUnless
	tJSON
	tRegexp
	tLogfmt
	tUnpack
	tPattern
	tLineFmt
	tLabelFmt
	tDecolorize
	tDrop
	tKeep
	tUnwrap
	tVariants
	tOf
)

// operators maps operator text to its kind; two-character operators are
// matched before one-character ones.
var operators = map[string]tokKind{
	"{": tLBrace, "}": tRBrace, "(": tLParen, ")": tRParen, "]": tRBracket,
	",": tComma, ".": tDot,
	"=": tEq, "!=": tNeq, "=~": tRe, "!~": tNre, "!>": tNpa,
	"|=": tPipeExact, "|~": tPipeMatch, "|>": tPipePattern, "|": tPipe,
	"==": tCmpEq, ">": tGt, ">=": tGte, "<": tLt, "<=": tLte,
	"+": tAdd, "-": tSub, "*": tMul, "/": tDiv, "%": tMod, "^": tPow,
}

// keywords are reserved words, matched without regard to case. A label or
// field cannot be named after one of them (as in Loki).
var keywords = map[string]tokKind{
	"by": tBy, "without": tWithout, "bool": tBool, "offset": tOffset,
	"on": tOn, "ignoring": tIgnoring, "group_left": tGroupLeft, "group_right": tGroupRight,
	"or": tOr, "and": tAnd, "unless": tUnless,
	"json": tJSON, "regexp": tRegexp, "logfmt": tLogfmt, "unpack": tUnpack,
	"pattern": tPattern, "line_format": tLineFmt, "label_format": tLabelFmt,
	"decolorize": tDecolorize, "drop": tDrop, "keep": tKeep, "unwrap": tUnwrap,
	"variants": tVariants, "of": tOf,
}

// functions are Loki's function names. They are tokens only when a "(" (or
// by/without and a "(") follows; otherwise they are ordinary identifiers, so
// a label may be called "rate" or "count".
var functions = map[string]bool{
	"rate": true, "rate_counter": true, "count_over_time": true,
	"bytes_rate": true, "bytes_over_time": true, "avg_over_time": true,
	"sum_over_time": true, "min_over_time": true, "max_over_time": true,
	"stdvar_over_time": true, "stddev_over_time": true, "quantile_over_time": true,
	"first_over_time": true, "last_over_time": true, "absent_over_time": true,
	"vector": true, "sum": true, "avg": true, "max": true, "min": true,
	"count": true, "stddev": true, "stdvar": true, "bottomk": true, "topk": true,
	"sort": true, "sort_desc": true, "approx_topk": true, "label_replace": true,
	"bytes": true, "duration": true, "duration_seconds": true, "ip": true,
}

// token is one lexical token with the position of its first character.
type token struct {
	kind tokKind
	// text is the source text; for keywords and functions, the lower-case
	// name.
	text string
	str  string        // value of a string
	dur  time.Duration // value of a duration or range
	line int
	col  int
	err  *ParseError // tError only
}

// display names the token as Loki's yacc error messages do.
func (t *token) display(expecting []string) string {
	switch t.kind {
	case tEOF:
		return "$end"
	case tIllegal:
		for _, e := range expecting {
			if e == "IDENTIFIER" {
				return "character " + strconv.Quote(t.text)
			}
		}
		return "IDENTIFIER"
	case tIdent:
		return "IDENTIFIER"
	case tString:
		return "STRING"
	case tNumber:
		return "NUMBER"
	case tDuration:
		return "DURATION"
	case tBytes:
		return "BYTES"
	case tRange:
		return "RANGE"
	case tFunc:
		switch t.text {
		case "label_replace", "ip":
			return t.text
		case "bytes", "duration", "duration_seconds":
			return strings.ToUpper(t.text) + "_CONV"
		}
		return strings.ToUpper(t.text)
	}
	return t.text
}
