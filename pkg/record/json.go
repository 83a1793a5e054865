package record

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The body is a flat JSON object of strings, unsigned numbers and booleans.
// It is encoded and decoded by hand: this is the hot path of shipping and of
// every query answer, and encoding/json costs several microseconds a record.

const hexDigits = "0123456789abcdef"

func appendKey(b []byte, first *bool, key string) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// appendJSONString appends s as a JSON string, as encoding/json writes it
// without HTML escaping: invalid UTF-8 becomes U+FFFD, U+2028 and U+2029 are
// escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
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

// jsonKind is the kind of a decoded JSON value.
type jsonKind uint8

const (
	jsonString jsonKind = iota
	jsonNumber
	jsonBool
	jsonNull
	jsonOther // object or array: skipped
)

// jsonValue is one decoded value of the flat body object.
type jsonValue struct {
	kind jsonKind
	text string // string contents (unescaped), or the number's literal
	b    bool
}

func (v jsonValue) str(key string) (string, error) {
	switch v.kind {
	case jsonString, jsonNumber:
		return v.text, nil
	case jsonBool:
		return strconv.FormatBool(v.b), nil
	case jsonNull:
		return "", nil
	}
	return "", fmt.Errorf("field %s: want a string", key)
}

func (v jsonValue) uint(key string) (uint64, error) {
	switch v.kind {
	case jsonNumber, jsonString:
		u, err := strconv.ParseUint(v.text, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("field %s: want an unsigned integer, got %q", key, v.text)
		}
		return u, nil
	case jsonNull:
		return 0, nil
	}
	return 0, fmt.Errorf("field %s: want an unsigned integer", key)
}

func (v jsonValue) bool(key string) (bool, error) {
	switch v.kind {
	case jsonBool:
		return v.b, nil
	case jsonString:
		t, err := strconv.ParseBool(v.text)
		if err != nil {
			return false, fmt.Errorf("field %s: want a boolean, got %q", key, v.text)
		}
		return t, nil
	case jsonNull:
		return false, nil
	}
	return false, fmt.Errorf("field %s: want a boolean", key)
}

// errSyntax is wrapped by every body syntax error.
var errSyntax = errors.New("invalid JSON body")

// scanner reads one flat JSON object.
type scanner struct {
	s   string
	pos int
	buf []byte // scratch for unescaping
}

func (sc *scanner) errorf(msg string) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, sc.pos, msg)
}

func (sc *scanner) skipSpace() {
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

// object calls fn for every key and value of the object that is the whole input.
func (sc *scanner) object(fn func(key string, v jsonValue) error) error {
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
		key, err := sc.string()
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

func (sc *scanner) end() error {
	sc.skipSpace()
	if sc.pos != len(sc.s) {
		return sc.errorf("data after the object")
	}
	return nil
}

func (sc *scanner) value() (jsonValue, error) {
	if sc.pos >= len(sc.s) {
		return jsonValue{}, sc.errorf("want a value")
	}
	switch c := sc.s[sc.pos]; {
	case c == '"':
		s, err := sc.string()
		return jsonValue{kind: jsonString, text: s}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return sc.number()
	case c == 't':
		return jsonValue{kind: jsonBool, b: true}, sc.literal("true")
	case c == 'f':
		return jsonValue{kind: jsonBool}, sc.literal("false")
	case c == 'n':
		return jsonValue{kind: jsonNull}, sc.literal("null")
	case c == '{' || c == '[':
		return jsonValue{kind: jsonOther}, sc.skipComposite()
	}
	return jsonValue{}, sc.errorf("unexpected character")
}

func (sc *scanner) literal(word string) error {
	if len(sc.s)-sc.pos < len(word) || sc.s[sc.pos:sc.pos+len(word)] != word {
		return sc.errorf("bad literal")
	}
	sc.pos += len(word)
	return nil
}

func (sc *scanner) number() (jsonValue, error) {
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
		return jsonValue{}, sc.errorf("bad number")
	}
	if sc.s[intStart] == '0' && sc.pos-intStart > 1 {
		return jsonValue{}, sc.errorf("bad number: leading zero")
	}
	if sc.pos < len(sc.s) && sc.s[sc.pos] == '.' {
		sc.pos++
		if digits() == 0 {
			return jsonValue{}, sc.errorf("bad number")
		}
	}
	if sc.pos < len(sc.s) && (sc.s[sc.pos] == 'e' || sc.s[sc.pos] == 'E') {
		sc.pos++
		if sc.pos < len(sc.s) && (sc.s[sc.pos] == '+' || sc.s[sc.pos] == '-') {
			sc.pos++
		}
		if digits() == 0 {
			return jsonValue{}, sc.errorf("bad number")
		}
	}
	return jsonValue{kind: jsonNumber, text: sc.s[start:sc.pos]}, nil
}

// string reads a JSON string; without escapes it is a substring of the input
// (no copy).
func (sc *scanner) string() (string, error) {
	if sc.pos >= len(sc.s) || sc.s[sc.pos] != '"' {
		return "", sc.errorf("want a string")
	}
	sc.pos++
	start := sc.pos
	for sc.pos < len(sc.s) {
		c := sc.s[sc.pos]
		switch {
		case c == '"':
			s := sc.s[start:sc.pos]
			sc.pos++
			if !utf8.ValidString(s) {
				return string([]rune(s)), nil // invalid bytes become U+FFFD, as encoding/json does
			}
			return s, nil
		case c == '\\':
			return sc.escapedString(start)
		case c < 0x20:
			return "", sc.errorf("control character in string")
		}
		sc.pos++
	}
	return "", sc.errorf("unterminated string")
}

func (sc *scanner) escapedString(start int) (string, error) {
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

func (sc *scanner) hex4() (rune, bool) {
	if len(sc.s)-sc.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(sc.s[sc.pos : sc.pos+4]) {
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
	sc.pos += 4
	return r, true
}

// skipComposite skips an object or array, checking only that brackets and
// strings are well formed.
func (sc *scanner) skipComposite() error {
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
			if _, err := sc.string(); err != nil {
				return err
			}
		default:
			sc.pos++
		}
	}
	return sc.errorf("unterminated value")
}
