package jsonscan

import (
	"errors"
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
// JSON string (between its quotes, still escaped). It reads only texts that
// need no unescaping but for the \" around their strings: an escape within
// a string, white space other than spaces, a nested value, a number or
// literal that Object would refuse and invalid UTF-8 make it return
// ErrNotInPlace, fn having maybe been called for the keys before. Object
// over Unquote(q) then reads the text, calling fn again for every key.
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
			return "", 0, false // an escape within the string
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

// quotedValue reads the value at i: a string, a number or a literal.
func quotedValue(q string, i int) (Value, int, bool) {
	if i >= len(q) {
		return Value{}, 0, false
	}
	switch c := q[i]; {
	case c == '\\':
		s, j, ok := quotedString(q, i)
		return Value{Kind: String, Text: s}, j, ok
	case c == '-' || (c >= '0' && c <= '9'):
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
	var sc Scanner
	sc.Reset(`"` + q + `"`)
	s, err := sc.String()
	if err != nil || sc.pos != len(sc.s) {
		return "", false
	}
	return s, true
}
