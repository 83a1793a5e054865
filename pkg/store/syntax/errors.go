package syntax

import "fmt"

// errEmptyCompatible is Loki's message for a selector whose matchers all
// match the empty string.
const errEmptyCompatible = `queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will`

// ParseError is a query that is not valid LogQL, worded as Loki words it.
//
// Line and Col (both 1-based, Col counting characters) locate the token
// where the problem was found. Both are 0 for the errors Loki reports
// without a position, such as a selector whose matchers all match the empty
// string.
type ParseError struct {
	Line, Col int
	Msg       string
}

// Error formats the error as Loki does: "parse error at line L, col C: msg",
// or "parse error : msg" when there is no position.
func (e *ParseError) Error() string {
	if e.Line == 0 && e.Col == 0 {
		return "parse error : " + e.Msg
	}
	return fmt.Sprintf("parse error at line %d, col %d: %s", e.Line, e.Col, e.Msg)
}

// UnsupportedError is valid LogQL that uses a construct the embedded store
// does not evaluate, e.g. `| logfmt` or `offset`. Line and Col (1-based)
// locate the construct.
type UnsupportedError struct {
	Line, Col int
	// Construct names what is not supported, e.g. "logfmt",
	// "sum_over_time", "offset" or "comparison operator >".
	Construct string
}

// Error formats the error as "unsupported LogQL: <construct> is not
// supported by the embedded store (line L, col C)".
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("unsupported LogQL: %s is not supported by the embedded store (line %d, col %d)", e.Construct, e.Line, e.Col)
}

// syntaxError is yacc's message for an unexpected token, with the tokens
// that would have been accepted when there are few of them.
func syntaxError(t *token, expecting []string) *ParseError {
	msg := "syntax error: unexpected " + t.display(expecting)
	for i, e := range expecting {
		if i == 0 {
			msg += ", expecting "
		} else {
			msg += " or "
		}
		msg += e
	}
	return &ParseError{Line: t.line, Col: t.col, Msg: msg}
}
