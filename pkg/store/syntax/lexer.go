package syntax

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// lexer splits a query into tokens the way Loki's lexer (a text/scanner
// with Go tokens) does. A lexical error ends the token list with a tError
// token, which the parser reports when it reaches it, so that an earlier
// syntax error wins as it does in Loki.
type lexer struct {
	src       string
	pos       int // byte offset of the next character
	line, col int // line of the next character; characters read on that line
	// start of the current token, where a lexical error is reported
	startLine, startCol int
	bad                 *ParseError // first invalid character met
}

// lex returns the tokens of src, ending with tEOF or tError.
func lex(src string) []token {
	l := &lexer{src: src, line: 1}
	if strings.HasPrefix(src, "\uFEFF") { // a byte order mark is ignored
		l.adv()
	}
	var toks []token
	for {
		t := l.scan()
		if l.bad != nil {
			t = token{kind: tError, line: l.bad.Line, col: l.bad.Col, err: l.bad}
		}
		toks = append(toks, t)
		if t.kind == tEOF || t.kind == tError {
			return toks
		}
	}
}

// cur returns the next character, or -1 at the end.
func (l *lexer) cur() rune { return l.at(0) }

// at returns the character off bytes ahead, or -1 at the end.
func (l *lexer) at(off int) rune {
	if l.pos+off >= len(l.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos+off:])
	return r
}

// adv consumes one character, noting an invalid one.
func (l *lexer) adv() {
	r, n := utf8.DecodeRuneInString(l.src[l.pos:])
	if l.bad == nil {
		switch {
		case r == utf8.RuneError && n == 1:
			l.bad = &ParseError{Line: l.startLine, Col: l.startCol, Msg: "invalid UTF-8 encoding"}
		case r == 0:
			l.bad = &ParseError{Line: l.startLine, Col: l.startCol, Msg: "invalid character NUL"}
		}
	}
	l.pos += n
	if r == '\n' {
		l.line++
		l.col = 0
	} else {
		l.col++
	}
}

func (l *lexer) mark() {
	l.startLine, l.startCol = l.line, l.col+1
}

func (l *lexer) errorf(msg string) token {
	return token{kind: tError, line: l.startLine, col: l.startCol,
		err: &ParseError{Line: l.startLine, Col: l.startCol, Msg: msg}}
}

func (l *lexer) tok(kind tokKind, start int) token {
	return token{kind: kind, text: l.src[start:l.pos], line: l.startLine, col: l.startCol}
}

// skipBlank skips white space and comments (# and // to the end of the
// line, /* … */).
func (l *lexer) skipBlank() *token {
	for l.pos < len(l.src) {
		l.mark()
		switch c, next := l.cur(), l.at(1); {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.adv()
		case c == '#' || c == '/' && next == '/':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.adv()
			}
		case c == '/' && next == '*':
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				t := l.errorf("comment not terminated")
				return &t
			}
			for stop := l.pos + 2 + end + 2; l.pos < stop; {
				l.adv()
			}
		default:
			return nil
		}
	}
	return nil
}

func (l *lexer) scan() token {
	if t := l.skipBlank(); t != nil {
		return *t
	}
	l.mark()
	start := l.pos
	c := l.cur()
	switch {
	case c < 0:
		return token{kind: tEOF, line: l.line, col: l.col + 1}
	case c == '_' || unicode.IsLetter(c):
		return l.scanWord()
	case c < utf8.RuneSelf && isDigit(byte(c)) || c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]):
		return l.scanNumber()
	case c == '"':
		return l.scanString()
	case c == '`':
		l.adv()
		for l.cur() != '`' {
			if l.cur() < 0 {
				return l.errorf("literal not terminated")
			}
			l.adv()
		}
		l.adv()
		t := l.tok(tString, start)
		t.str = t.text[1 : len(t.text)-1]
		return t
	case c == '[':
		return l.scanRange()
	case c == '-':
		if t, ok := l.tryDuration(start); ok {
			return t
		}
	}
	if l.pos+2 <= len(l.src) {
		if k, ok := operators[l.src[l.pos:l.pos+2]]; ok {
			l.adv()
			l.adv()
			return l.tok(k, start)
		}
	}
	l.adv()
	if k, ok := operators[l.src[start:l.pos]]; ok {
		return l.tok(k, start)
	}
	return l.tok(tIllegal, start)
}

// scanWord reads an identifier, a keyword or a function name.
func (l *lexer) scanWord() token {
	start := l.pos
	for c := l.cur(); c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c); c = l.cur() {
		l.adv()
	}
	t := l.tok(tIdent, start)
	lower := strings.ToLower(t.text)
	if functions[lower] {
		if followsCall(l.src[l.pos:]) {
			t.kind, t.text = tFunc, lower
		}
		return t
	}
	if k, ok := keywords[lower]; ok {
		t.kind, t.text = k, lower
	}
	return t
}

// followsCall reports whether s (what follows a function name) opens its
// arguments: "(", or by/without and "(", after optional blanks.
func followsCall(s string) bool {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	if strings.HasPrefix(s, "(") {
		return true
	}
	for _, kw := range []string{"by", "without"} {
		if len(s) >= len(kw) && strings.EqualFold(s[:len(kw)], kw) {
			return strings.HasPrefix(strings.TrimLeftFunc(s[len(kw):], unicode.IsSpace), "(")
		}
	}
	return false
}

// scanNumber reads a decimal number; a duration ("5m", "1h30m") or a byte
// size ("10KB") written right after it makes it one token.
func (l *lexer) scanNumber() token {
	start := l.pos
	digits := func() bool {
		n := 0
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.adv()
			n++
		}
		return n > 0
	}
	float := false
	digits()
	if l.cur() == '.' {
		l.adv()
		float = true
		digits()
	}
	if c := l.cur(); c == 'e' || c == 'E' {
		l.adv()
		if c := l.cur(); c == '+' || c == '-' {
			l.adv()
		}
		if !digits() {
			return l.errorf("exponent has no digits")
		}
		float = true
	}
	text := l.src[start:l.pos]
	if !float && len(text) > 1 && text[0] == '0' {
		if i := strings.IndexAny(text, "89"); i >= 0 {
			return l.errorf("invalid digit " + strconv.QuoteRune(rune(text[i])) + " in octal literal")
		}
	}
	if t, ok := l.tryDuration(start); ok {
		return t
	}
	if end := l.runEnd(l.pos, isBytesRune); end > l.pos && isBytes(l.src[start:end]) {
		for l.pos < end {
			l.adv()
		}
		return l.tok(tBytes, start)
	}
	return l.tok(tNumber, start)
}

func isDurationRune(r rune) bool { return strings.ContainsRune("numµshdwy", r) }
func isBytesRune(r rune) bool    { return strings.ContainsRune("BikKMGTP", r) }

// runEnd returns the end of the run of numbers, '.' and characters for
// which ok holds that starts at byte i.
func (l *lexer) runEnd(i int, ok func(rune) bool) int {
	for i < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[i:])
		if !unicode.IsNumber(r) && r != '.' && !ok(r) {
			break
		}
		i += n
	}
	return i
}

// tryDuration extends the token that starts at start (a number or "-") to
// a duration, as Loki does, if what follows makes one.
func (l *lexer) tryDuration(start int) (token, bool) {
	from := l.pos
	if l.src[start] == '-' {
		from = start + 1
	}
	end := l.runEnd(from, isDurationRune)
	if end == from {
		return token{}, false
	}
	d, ok := parseDurationToken(l.src[start:end])
	if !ok {
		return token{}, false
	}
	for l.pos < end {
		l.adv()
	}
	t := l.tok(tDuration, start)
	t.dur = d
	return t, true
}

// scanString reads a double-quoted string with Go's escapes.
func (l *lexer) scanString() token {
	start := l.pos
	l.adv()
	for {
		switch c := l.cur(); c {
		case -1, '\n':
			return l.errorf("literal not terminated")
		case '"':
			l.adv()
			t := l.tok(tString, start)
			v, err := strconv.Unquote(t.text)
			if err != nil {
				return l.errorf(err.Error())
			}
			t.str = v
			return t
		case '\\':
			l.adv()
			if !l.escape() {
				return l.errorf("invalid char escape")
			}
		default:
			l.adv()
		}
	}
}

// escape consumes the escape after a backslash and reports whether it is
// one Go (and Loki) accepts.
func (l *lexer) escape() bool {
	base, n := 0, 0
	switch c := l.cur(); c {
	case 'a', 'b', 'f', 'n', 'r', 't', 'v', '\\', '"':
		l.adv()
		return true
	case '0', '1', '2', '3', '4', '5', '6', '7':
		base, n = 8, 3
	case 'x':
		l.adv()
		base, n = 16, 2
	case 'u':
		l.adv()
		base, n = 16, 4
	case 'U':
		l.adv()
		base, n = 16, 8
	default:
		return false
	}
	for ; n > 0; n-- {
		if digitVal(l.cur()) >= base {
			return false
		}
		l.adv()
	}
	return true
}

func digitVal(c rune) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return 16
}

// scanRange reads a range "[5m]" as one token.
func (l *lexer) scanRange() token {
	start := l.pos
	l.adv()
	for l.cur() != ']' {
		if l.cur() < 0 {
			return l.errorf("missing closing ']' in duration")
		}
		l.adv()
	}
	l.adv()
	t := l.tok(tRange, start)
	d, err := parseRange(t.text[1 : len(t.text)-1])
	if err != nil {
		return l.errorf(err.Error())
	}
	t.dur = d
	return t
}
