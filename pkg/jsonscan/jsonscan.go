// Package jsonscan reads and writes the flat JSON objects Activity Audit
// keeps as Loki line bodies, by hand: it is the hot path of shipping and of
// every query, and encoding/json costs several microseconds a record.
package jsonscan

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, as encoding/json writes it
// without HTML escaping: invalid UTF-8 becomes U+FFFD, U+2028 and U+2029 are
// escaped.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; ; {
		if i = SkipPlain(s, i); i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plain marks the bytes a JSON string holds as they are, both ways: ASCII,
// neither a control character nor a quote nor a backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// SkipPlain returns the index of the first byte of s at or after i that a
// JSON string does not hold as it is — a quote, a backslash, a control
// character or a byte of a non-ASCII character — or len(s). It reads eight
// bytes at a time.
func SkipPlain(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if k := plainBytes(load64(s[i : i+8])); k < 8 {
			return i + k
		}
	}
	for i < len(s) && plain[s[i]] {
		i++
	}
	return i
}

// SkipQuoted returns the index of the quote that closes the JSON string
// whose contents start at i in s, having checked that those contents are
// well formed: escapes as JSON has them, no control character. It returns
// -1 for contents that are not, or not closed. It reads eight bytes at a
// time.
func SkipQuoted(s string, i int) int {
	for i+8 <= len(s) {
		w := s[i : i+8]
		x := load64(w)
		next := i + 8
		m := specialBytes(x)
		if m != 0 {
			// JSON inside a JSON string escapes all its quotes: take each
			// \" of the word at once, unless two backslashes touch (\\).
			const highs = 0x8080808080808080
			b := zeroBytes(x^0x5c5c5c5c5c5c5c5c) & highs
			if b&(b<<8) == 0 {
				p := b & (zeroBytes(x^0x2222222222222222) & highs >> 8)
				m &^= p | p<<8
			}
		}
		for m != 0 {
			k := bits.TrailingZeros64(m) / 8
			switch c := w[k]; {
			case c == '"':
				return i + k
			case c == '\\':
				n := 2 // \" and \\ are most of them
				if k == 7 || w[k+1] != '"' && w[k+1] != '\\' {
					if n = escapeLen(s[i+k:]); n == 0 {
						return -1
					}
				}
				if k+n >= 8 {
					next, m = i+k+n, 0 // the escape ends past this word
				} else {
					m &^= 1<<(8*(k+n)) - 1
				}
			case c < 0x20:
				return -1
			default: // not ASCII: any byte goes (invalid UTF-8 reads as U+FFFD)
				m &^= 0xff << (8 * k)
			}
		}
		i = next
	}
	return skipQuotedBytes(s, i)
}

// skipQuotedBytes is SkipQuoted one byte at a time: for the last bytes of
// a string, fewer than eight.
func skipQuotedBytes(s string, i int) int {
	for i < len(s) {
		switch c := s[i]; {
		case c == '"':
			return i
		case c == '\\':
			n := escapeLen(s[i:])
			if n == 0 {
				return -1
			}
			i += n
		case c < 0x20:
			return -1
		default:
			i++
		}
	}
	return -1
}

// escapeLen is the length of the escape sequence e starts with (at a
// backslash), 0 for a bad one.
func escapeLen(e string) int {
	if len(e) < 2 {
		return 0
	}
	switch e[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(e) >= 6 && isHex(e[2]) && isHex(e[3]) && isHex(e[4]) && isHex(e[5]) {
			return 6
		}
	}
	return 0
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// specialBytes sets the high bit of each byte of x that a JSON string does
// not hold as it is: a quote, a backslash, a control character or a byte of
// a non-ASCII character (exactly: no borrow runs from byte to byte).
func specialBytes(x uint64) uint64 {
	const highs = 0x8080808080808080
	control := ^((x&low7 + 0x6060606060606060) | x) // below 0x20: adding 0x60 leaves bit 7 clear
	return (zeroBytes(x^0x2222222222222222) | zeroBytes(x^0x5c5c5c5c5c5c5c5c) | control | x) & highs
}

const low7 = 0x7f7f7f7f7f7f7f7f

// zeroBytes sets the high bit of each zero byte of t, and only those (a
// function of its own, not a closure, so that it is inlined).
func zeroBytes(t uint64) uint64 { return ^((t&low7 + low7) | t | low7) }

// plainBytes returns how many of the eight bytes of x (little endian: the
// first byte is the lowest) a JSON string holds as they are, up to the
// first that it does not (as SkipPlain). It is specialBytes exact only up
// to that first byte, which is all SkipPlain needs: three operations fewer
// on the hottest loop of reading and writing JSON (AppendString is 12 %
// slower through specialBytes).
func plainBytes(x uint64) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, b := x^(ones*'"'), x^(ones*'\\')
	// The high bit of a byte is set in special at the first byte that is a
	// quote (q - ones borrows there), a backslash, a control character (x -
	// 0x20 borrows) or not ASCII; bytes after it may be set too, by the
	// borrow.
	special := (((q - ones) &^ q) | ((b - ones) &^ b) | (x - ones*0x20) | x) & highs
	return bits.TrailingZeros64(special) / 8
}

// load64 reads the eight bytes of w, little endian (one load).
func load64(w string) uint64 {
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// Kind is the kind of a decoded JSON value.
type Kind uint8

// Kinds.
const (
	String Kind = iota
	Number
	Bool
	Null
	Object // Text holds the object's raw JSON
	Array  // Text holds the array's raw JSON
)

// Value is one decoded value of an object.
type Value struct {
	Kind Kind
	// Text is the string's contents (unescaped), the number's literal, or the
	// raw JSON of an object or array.
	Text string
	// Bool is a boolean's value.
	Bool bool
}

// Str reads a string field (numbers and booleans as their text; null as "").
func (v Value) Str(key string) (string, error) {
	switch v.Kind {
	case String, Number:
		return v.Text, nil
	case Bool:
		return strconv.FormatBool(v.Bool), nil
	case Null:
		return "", nil
	}
	return "", fmt.Errorf("field %s: want a string", key)
}

// Uint reads an unsigned integer field (also from a string holding one).
func (v Value) Uint(key string) (uint64, error) {
	if u, ok := shortUint(v); ok {
		return u, nil
	}
	switch v.Kind {
	case Number, String:
		u, err := strconv.ParseUint(v.Text, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("field %s: want an unsigned integer, got %q", key, v.Text)
		}
		return u, nil
	case Null:
		return 0, nil
	}
	return 0, fmt.Errorf("field %s: want an unsigned integer", key)
}

// shortUint reads a number of at most 19 digits (which cannot overflow)
// without strconv: most fields' numbers.
func shortUint(v Value) (uint64, bool) {
	if v.Kind != Number || len(v.Text) == 0 || len(v.Text) > 19 {
		return 0, false
	}
	var u uint64
	for i := 0; i < len(v.Text); i++ {
		c := v.Text[i] - '0'
		if c > 9 {
			return 0, false
		}
		u = u*10 + uint64(c)
	}
	return u, true
}

// Boolean reads a boolean field (also from a string holding one).
func (v Value) Boolean(key string) (bool, error) {
	switch v.Kind {
	case Bool:
		return v.Bool, nil
	case String:
		t, err := strconv.ParseBool(v.Text)
		if err != nil {
			return false, fmt.Errorf("field %s: want a boolean, got %q", key, v.Text)
		}
		return t, nil
	case Null:
		return false, nil
	}
	return false, fmt.Errorf("field %s: want a boolean", key)
}

// ErrSyntax is wrapped by every syntax error.
var ErrSyntax = errors.New("invalid JSON body")

// Scanner reads one JSON object.
type Scanner struct {
	s   string
	pos int
	buf []byte // scratch for unescaping
}

// Reset makes the scanner read s.
func (sc *Scanner) Reset(s string) { sc.s, sc.pos = s, 0 }

func (sc *Scanner) errorf(msg string) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, sc.pos, msg)
}

func (sc *Scanner) skipSpace() {
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

// Object calls fn for every key and value of the object that is the whole
// input. Strings passed to fn may share memory with the input.
func (sc *Scanner) Object(fn func(key string, v Value) error) error {
	sc.skipSpace()
	if sc.pos >= len(sc.s) || sc.s[sc.pos] != '{' {
		return sc.errorf("want an object")
	}
	sc.pos++
	sc.skipSpace()
	if sc.pos < len(sc.s) && sc.s[sc.pos] == '}' {
		sc.pos++
		return sc.end()
	}
	for {
		sc.skipSpace()
		key, err := sc.String()
		if err != nil {
			return err
		}
		sc.skipSpace()
		if sc.pos >= len(sc.s) || sc.s[sc.pos] != ':' {
			return sc.errorf("want ':'")
		}
		sc.pos++
		sc.skipSpace()
		v, err := sc.value()
		if err != nil {
			return err
		}
		if err := fn(key, v); err != nil {
			return err
		}
		sc.skipSpace()
		if sc.pos >= len(sc.s) {
			return sc.errorf("unterminated object")
		}
		switch sc.s[sc.pos] {
		case ',':
			sc.pos++
		case '}':
			sc.pos++
			return sc.end()
		default:
			return sc.errorf("want ',' or '}'")
		}
	}
}

func (sc *Scanner) end() error {
	sc.skipSpace()
	if sc.pos != len(sc.s) {
		return sc.errorf("data after the object")
	}
	return nil
}

func (sc *Scanner) value() (Value, error) {
	if sc.pos >= len(sc.s) {
		return Value{}, sc.errorf("want a value")
	}
	switch c := sc.s[sc.pos]; {
	case c == '"':
		s, err := sc.String()
		return Value{Kind: String, Text: s}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return sc.number()
	case c == 't':
		return Value{Kind: Bool, Bool: true}, sc.literal("true")
	case c == 'f':
		return Value{Kind: Bool}, sc.literal("false")
	case c == 'n':
		return Value{Kind: Null}, sc.literal("null")
	case c == '{' || c == '[':
		start := sc.pos
		err := sc.skipComposite()
		k := Object
		if c == '[' {
			k = Array
		}
		return Value{Kind: k, Text: sc.s[start:sc.pos]}, err
	}
	return Value{}, sc.errorf("unexpected character")
}

func (sc *Scanner) literal(word string) error {
	if len(sc.s)-sc.pos < len(word) || sc.s[sc.pos:sc.pos+len(word)] != word {
		return sc.errorf("bad literal")
	}
	sc.pos += len(word)
	return nil
}

func (sc *Scanner) number() (Value, error) {
	start := sc.pos
	if sc.s[sc.pos] == '-' {
		sc.pos++
	}
	digits := func() int {
		n := 0
		for sc.pos < len(sc.s) && sc.s[sc.pos] >= '0' && sc.s[sc.pos] <= '9' {
			sc.pos++
			n++
		}
		return n
	}
	intStart := sc.pos
	if digits() == 0 {
		return Value{}, sc.errorf("bad number")
	}
	if sc.s[intStart] == '0' && sc.pos-intStart > 1 {
		return Value{}, sc.errorf("bad number: leading zero")
	}
	if sc.pos < len(sc.s) && sc.s[sc.pos] == '.' {
		sc.pos++
		if digits() == 0 {
			return Value{}, sc.errorf("bad number")
		}
	}
	if sc.pos < len(sc.s) && (sc.s[sc.pos] == 'e' || sc.s[sc.pos] == 'E') {
		sc.pos++
		if sc.pos < len(sc.s) && (sc.s[sc.pos] == '+' || sc.s[sc.pos] == '-') {
			sc.pos++
		}
		if digits() == 0 {
			return Value{}, sc.errorf("bad number")
		}
	}
	return Value{Kind: Number, Text: sc.s[start:sc.pos]}, nil
}

// string reads a JSON string; without escapes it is a substring of the input
// (no copy).
// String reads a JSON string at the scanner position.
func (sc *Scanner) String() (string, error) {
	if sc.pos >= len(sc.s) || sc.s[sc.pos] != '"' {
		return "", sc.errorf("want a string")
	}
	sc.pos++
	start := sc.pos
	ascii := true
	for {
		if sc.pos = SkipPlain(sc.s, sc.pos); sc.pos >= len(sc.s) {
			break
		}
		switch c := sc.s[sc.pos]; {
		case c == '"':
			s := sc.s[start:sc.pos]
			sc.pos++
			if !ascii && !utf8.ValidString(s) {
				return string([]rune(s)), nil // invalid bytes become U+FFFD, as encoding/json does
			}
			return s, nil
		case c == '\\':
			return sc.escapedString(start)
		case c < 0x20:
			return "", sc.errorf("control character in string")
		default:
			ascii = false
			sc.pos++
		}
	}
	return "", sc.errorf("unterminated string")
}

func (sc *Scanner) escapedString(start int) (string, error) {
	b := append(sc.buf[:0], sc.s[start:sc.pos]...)
	for sc.pos < len(sc.s) {
		c := sc.s[sc.pos]
		switch {
		case c == '"':
			sc.pos++
			sc.buf = b
			if !utf8.Valid(b) {
				return string([]rune(string(b))), nil
			}
			return string(b), nil
		case c < 0x20:
			return "", sc.errorf("control character in string")
		case c != '\\':
			b = append(b, c)
			sc.pos++
			continue
		}
		sc.pos++
		if sc.pos >= len(sc.s) {
			break
		}
		e := sc.s[sc.pos]
		sc.pos++
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := sc.hex4()
			if !ok {
				return "", sc.errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if len(sc.s)-sc.pos >= 6 && sc.s[sc.pos] == '\\' && sc.s[sc.pos+1] == 'u' {
					save := sc.pos
					sc.pos += 2
					if lo, ok := sc.hex4(); ok {
						if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
							r2 = dec
						} else {
							sc.pos = save
						}
					} else {
						sc.pos = save
					}
				}
				r = r2
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", sc.errorf("bad escape")
		}
	}
	return "", sc.errorf("unterminated string")
}

func (sc *Scanner) hex4() (rune, bool) {
	r, ok := Hex4(sc.s[sc.pos:])
	if ok {
		sc.pos += 4
	}
	return r, ok
}

// Hex4 decodes the four hex digits (any case) s starts with, as a \u
// escape holds them.
func Hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[:4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipComposite skips an object or array, checking only that brackets and
// strings are well formed.
func (sc *Scanner) skipComposite() error {
	depth := 0
	for sc.pos < len(sc.s) {
		switch c := sc.s[sc.pos]; c {
		case '{', '[':
			depth++
			if depth > 64 {
				return sc.errorf("nesting too deep")
			}
			sc.pos++
		case '}', ']':
			depth--
			sc.pos++
			if depth == 0 {
				return nil
			}
		case '"':
			if _, err := sc.String(); err != nil {
				return err
			}
		default:
			sc.pos++
		}
	}
	return sc.errorf("unterminated value")
}
