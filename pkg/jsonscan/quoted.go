package jsonscan

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// A JSON line body inside a Loki answer is itself a JSON string:
// {\"comm\":\"bash\",\"pid\":9001}. ObjectQuoted reads such a body where it
// lies, without unescaping it first: its strings are substrings of the
// answer.

// ErrNotInPlace is returned by ObjectQuoted for a text it does not read in
// place.
var ErrNotInPlace = errors.New("JSON text needs unescaping")

// ObjectQuoted is Object for the JSON text that q holds as the contents of a
// JSON string (between its quotes, still escaped). Its strings are
// substrings of q, but for those holding escapes of their own (a new
// string each). It reads only the texts whose structure needs no
// unescaping but for the \" around their strings: escapes of q other than
// \" and \\, surrogates, white space other than spaces, a nested value, a
// number or literal that Object would refuse and invalid UTF-8 make it
// return ErrNotInPlace, fn having maybe been called for the keys before.
// Object over Unquote(q) then reads the text, calling fn again for every
// key.
func ObjectQuoted(q string, fn func(key string, v Value) error) error {
	i := skipSpaces(q, 0)
	if i >= len(q) || q[i] != '{' {
		return ErrNotInPlace
	}
	if i = skipSpaces(q, i+1); i < len(q) && q[i] == '}' {
		return quotedEnd(q, i+1)
	}
	for {
		key, j, ok := quotedString(q, i)
		if !ok {
			return ErrNotInPlace
		}
		if i = skipSpaces(q, j); i >= len(q) || q[i] != ':' {
			return ErrNotInPlace
		}
		v, j, ok := quotedValue(q, skipSpaces(q, i+1))
		if !ok {
			return ErrNotInPlace
		}
		if err := fn(key, v); err != nil {
			return err
		}
		if i = skipSpaces(q, j); i >= len(q) {
			return ErrNotInPlace
		}
		switch q[i] {
		case ',':
			i = skipSpaces(q, i+1)
		case '}':
			return quotedEnd(q, i+1)
		default:
			return ErrNotInPlace
		}
	}
}

func skipSpaces(q string, i int) int {
	for i < len(q) && q[i] == ' ' {
		i++
	}
	return i
}

func quotedEnd(q string, i int) error {
	if skipSpaces(q, i) != len(q) {
		return ErrNotInPlace
	}
	return nil
}

// quotedString reads \"...\" at i: its contents, where it ends, and whether
// it needs no unescaping.
func quotedString(q string, i int) (string, int, bool) {
	if i+1 >= len(q) || q[i] != '\\' || q[i+1] != '"' {
		return "", 0, false
	}
	start := i + 2
	for j := start; ; {
		if j = SkipPlain(q, j); j >= len(q) {
			return "", 0, false
		}
		switch c := q[j]; {
		case c == '\\':
			if j+1 < len(q) && q[j+1] == '"' {
				return q[start:j], j + 2, true
			}
			return quotedEscaped(q, start, j)
		case c < utf8.RuneSelf:
			return "", 0, false // a control character or a bare quote
		default:
			r, size := utf8.DecodeRuneInString(q[j:])
			if r == utf8.RuneError && size == 1 {
				return "", 0, false
			}
			j += size
		}
	}
}

// quotedEscaped finishes, from j, a string holding escapes: its own, which
// q escapes again (\\\" for \", \\\\ for \\, \\n, \\u00e9), and those of q
// for characters that need none in the string (\u003c for <, \/). It
// unescapes both levels into a new string. Other escapes (a control
// character, a surrogate) are left to the general path.
func quotedEscaped(q string, start, j int) (string, int, bool) {
	buf := make([]byte, j-start, j-start+64)
	copy(buf, q[start:j])
	for j < len(q) {
		switch c := q[j]; {
		case c == '\\':
			if j+1 >= len(q) {
				return "", 0, false
			}
			switch q[j+1] {
			case '"': // the string's end
				return string(buf), j + 2, true
			case '\\': // an escape of the string's own
				n, ok := 0, false
				if buf, n, ok = appendInnerEscape(buf, q, j+2); !ok {
					return "", 0, false
				}
				j += 2 + n
			case '/':
				buf = append(buf, '/')
				j += 2
			case 'u': // a character q escapes (encoding/json writes < as \u003c)
				r, ok := hexRune(q, j+2)
				if !ok || r < 0x20 || r == '"' || r == '\\' {
					return "", 0, false
				}
				buf = utf8.AppendRune(buf, r)
				j += 6
			default:
				return "", 0, false
			}
		case c < 0x20:
			return "", 0, false
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			j++
		default:
			r, size := utf8.DecodeRuneInString(q[j:])
			if r == utf8.RuneError && size == 1 {
				return "", 0, false
			}
			buf = append(buf, q[j:j+size]...)
			j += size
		}
	}
	return "", 0, false
}

// appendInnerEscape appends what the escape of the inner text whose code
// is at k in q stands for, and returns the length of that code in q.
func appendInnerEscape(buf []byte, q string, k int) ([]byte, int, bool) {
	if k >= len(q) {
		return buf, 0, false
	}
	switch c := q[k]; c {
	case '\\': // \" and \\ themselves escaped in q
		if k+1 < len(q) && (q[k+1] == '"' || q[k+1] == '\\') {
			return append(buf, q[k+1]), 2, true
		}
	case '/':
		return append(buf, '/'), 1, true
	case 'b':
		return append(buf, '\b'), 1, true
	case 'f':
		return append(buf, '\f'), 1, true
	case 'n':
		return append(buf, '\n'), 1, true
	case 'r':
		return append(buf, '\r'), 1, true
	case 't':
		return append(buf, '\t'), 1, true
	case 'u':
		r, ok := hexRune(q, k+1)
		if !ok {
			return buf, 0, false
		}
		return utf8.AppendRune(buf, r), 5, true
	}
	return buf, 0, false
}

// hexRune reads the four hex digits at k in q; surrogates are refused.
func hexRune(q string, k int) (rune, bool) {
	r, ok := Hex4(q[k:])
	return r, ok && !utf16.IsSurrogate(r)
}

// quotedValue reads the value at i: a string, a number or a literal.
func quotedValue(q string, i int) (Value, int, bool) {
	if i >= len(q) {
		return Value{}, 0, false
	}
	switch c := q[i]; {
	case c == '\\':
		s, j, ok := quotedString(q, i)
		return Value{Kind: String, Text: s}, j, ok
	case c >= '0' && c <= '9':
		// The usual number: digits alone (no fraction or exponent), no
		// leading zero.
		j := i + 1
		for c != '0' && j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		if j == len(q) || (q[j] != '.' && q[j] != 'e' && q[j] != 'E' && (q[j] < '0' || q[j] > '9')) {
			return Value{Kind: Number, Text: q[i:j]}, j, true
		}
		fallthrough
	case c == '-':
		var sc Scanner
		sc.Reset(q)
		sc.pos = i
		v, err := sc.number()
		return v, sc.pos, err == nil
	case c == 't':
		return Value{Kind: Bool, Bool: true}, i + 4, hasWord(q, i, "true")
	case c == 'f':
		return Value{Kind: Bool}, i + 5, hasWord(q, i, "false")
	case c == 'n':
		return Value{Kind: Null}, i + 4, hasWord(q, i, "null")
	}
	return Value{}, 0, false
}

func hasWord(q string, i int, word string) bool {
	return len(q)-i >= len(word) && q[i:i+len(word)] == word
}

// Unquote returns the text that q, the contents of a JSON string between
// its quotes, stands for, unescaped as encoding/json does; ok is false
// when q is not such contents. Plain text is returned as it is.
func Unquote(q string) (string, bool) {
	if SkipPlain(q, 0) == len(q) {
		return q, true
	}
	sc := Scanner{s: `"` + q + `"`, buf: make([]byte, 0, len(q))}
	s, err := sc.String()
	if err != nil || sc.pos != len(sc.s) {
		return "", false
	}
	return s, true
}
