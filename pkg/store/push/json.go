package push

import (
	"fmt"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// The JSON decoder reads Loki's JSON push format in one pass over the body:
//
//	{"streams": [{"stream": {"name": "value", ...},
//	              "values": [["<unix ns>", "<line>"],
//	                         ["<unix ns>", "<line>", {"name": "value", ...}]]}]}
//
// Unknown keys are skipped; null stands for an absent "streams", "stream"
// or "values". Timestamps are strings of decimal nanoseconds (an optional
// minus sign and digits, as Loki's jsonparser.ParseInt takes them); label,
// line and metadata values are strings. A key of those above given twice in
// one object is refused, as are duplicate label and metadata names.
// Strings are unescaped in place in the body buffer, which the caller owns.

// maxJSONDepth bounds the nesting of skipped values.
const maxJSONDepth = 256

// jsonEntry is an entry read from "values", waiting for its stream's
// labels, which may come after it.
type jsonEntry struct {
	ts       int64
	line     []byte
	md0, md1 int // its metadata: pairs[md0:md1]
}

// jsonDecoder reads one body into a builder.
type jsonDecoder struct {
	b   *builder
	buf []byte
	i   int

	labels  []rawPair
	entries []jsonEntry
	pairs   []rawPair
}

func decodeJSON(b *builder, buf []byte) error {
	d := jsonDecoder{b: b, buf: buf}
	empty, err := d.begin('{', '}', "the push request")
	if err != nil {
		return err
	}
	seen := false
	for more := !empty; more; {
		key, err := d.key()
		if err != nil {
			return err
		}
		if string(key) == "streams" {
			if seen {
				return d.errorf(`duplicate key "streams"`)
			}
			seen = true
			err = d.streams()
		} else {
			err = d.skip(0)
		}
		if err != nil {
			return err
		}
		if more, err = d.next('}'); err != nil {
			return err
		}
	}
	d.space()
	if d.i < len(d.buf) {
		return d.errorf("unexpected data after the push request")
	}
	return nil
}

// streams reads the "streams" array.
func (d *jsonDecoder) streams() error {
	if d.null() {
		return nil
	}
	empty, err := d.begin('[', ']', `"streams"`)
	if err != nil {
		return err
	}
	for more := !empty; more; {
		if err := d.stream(); err != nil {
			return err
		}
		if more, err = d.next(']'); err != nil {
			return err
		}
	}
	return nil
}

// stream reads one stream object and adds its entries.
func (d *jsonDecoder) stream() error {
	d.labels, d.entries, d.pairs = d.labels[:0], d.entries[:0], d.pairs[:0]
	empty, err := d.begin('{', '}', "a stream")
	if err != nil {
		return err
	}
	var seenStream, seenValues bool
	for more := !empty; more; {
		key, err := d.key()
		if err != nil {
			return err
		}
		switch string(key) {
		case "stream":
			if seenStream {
				return d.errorf(`duplicate key "stream"`)
			}
			seenStream = true
			err = d.labelSet()
		case "values":
			if seenValues {
				return d.errorf(`duplicate key "values"`)
			}
			seenValues = true
			err = d.values()
		default:
			err = d.skip(0)
		}
		if err != nil {
			return err
		}
		if more, err = d.next('}'); err != nil {
			return err
		}
	}
	if len(d.entries) == 0 {
		return nil // Loki ignores a stream without entries
	}

	ls := d.b.scratch[:0]
	for _, p := range d.labels {
		ls = append(ls, stream.Label{Name: d.b.intern(p.name), Value: d.b.intern(p.value)})
	}
	d.b.scratch = ls[:0]
	si, err := d.b.resolve(ls)
	if err != nil {
		return err
	}
	s := &d.b.streams[si]
	s.Entries = slices.Grow(s.Entries, len(d.entries))
	for _, e := range d.entries {
		if err := d.b.addEntry(si, e.ts, e.line, d.pairs[e.md0:e.md1]); err != nil {
			return err
		}
	}
	return nil
}

// labelSet reads the "stream" object into d.labels.
func (d *jsonDecoder) labelSet() error {
	if d.null() {
		return nil
	}
	var err error
	d.labels, err = d.stringObject(d.labels, `"stream"`)
	return err
}

// stringObject reads an object whose values are strings, appending its
// members to dst.
func (d *jsonDecoder) stringObject(dst []rawPair, what string) ([]rawPair, error) {
	empty, err := d.begin('{', '}', what)
	if err != nil {
		return dst, err
	}
	for more := !empty; more; {
		name, err := d.key()
		if err != nil {
			return dst, err
		}
		d.space()
		if d.i >= len(d.buf) || d.buf[d.i] != '"' {
			return dst, d.errorf("%s: the value of %q must be a string", what, clip(string(name), maxQuotedInMsg))
		}
		value, err := d.str()
		if err != nil {
			return dst, err
		}
		dst = append(dst, rawPair{name: name, value: value})
		if more, err = d.next('}'); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// values reads the "values" array into d.entries.
func (d *jsonDecoder) values() error {
	if d.null() {
		return nil
	}
	empty, err := d.begin('[', ']', `"values"`)
	if err != nil {
		return err
	}
	for more := !empty; more; {
		if err := d.value(); err != nil {
			return err
		}
		if more, err = d.next(']'); err != nil {
			return err
		}
	}
	return nil
}

// value reads one [ts, line] or [ts, line, {metadata}] array.
func (d *jsonDecoder) value() error {
	const arity = "a value must be an array of 2 or 3 elements: [timestamp, line] or [timestamp, line, {structured metadata}]"
	empty, err := d.begin('[', ']', "a value")
	if err != nil {
		return err
	}
	if empty {
		return d.errorf(arity)
	}

	d.space()
	if d.i >= len(d.buf) || d.buf[d.i] != '"' {
		return d.errorf("a timestamp must be a string of Unix nanoseconds")
	}
	tsText, err := d.str()
	if err != nil {
		return err
	}
	ts, ok := parseNanos(tsText)
	if !ok {
		return d.errorf("invalid timestamp %q: want a string of Unix nanoseconds", clip(string(tsText), maxQuotedInMsg))
	}
	if more, err := d.next(']'); err != nil {
		return err
	} else if !more {
		return d.errorf(arity)
	}

	d.space()
	if d.i >= len(d.buf) || d.buf[d.i] != '"' {
		return d.errorf("a log line must be a string")
	}
	line, err := d.str()
	if err != nil {
		return err
	}
	e := jsonEntry{ts: ts, line: line, md0: len(d.pairs), md1: len(d.pairs)}
	more, err := d.next(']')
	if err != nil {
		return err
	}
	if more {
		d.space()
		if d.i >= len(d.buf) || d.buf[d.i] != '{' {
			return d.errorf("structured metadata must be an object of strings")
		}
		if d.pairs, err = d.stringObject(d.pairs, "structured metadata"); err != nil {
			return err
		}
		e.md1 = len(d.pairs)
		if more, err = d.next(']'); err != nil {
			return err
		} else if more {
			return d.errorf(arity)
		}
	}
	d.entries = append(d.entries, e)
	return nil
}

// parseNanos parses -?[0-9]+ into an int64.
func parseNanos(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// errorf describes malformed JSON at the current offset.
func (d *jsonDecoder) errorf(format string, args ...any) error {
	return invalidf("invalid JSON push request at offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

func (d *jsonDecoder) space() {
	for d.i < len(d.buf) && isSpace(d.buf[d.i]) {
		d.i++
	}
}

// null consumes a null if one is next.
func (d *jsonDecoder) null() bool {
	d.space()
	if len(d.buf)-d.i >= 4 && string(d.buf[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// begin consumes the opening bracket of a container and, if it is empty,
// the closing one.
func (d *jsonDecoder) begin(open, close byte, what string) (empty bool, err error) {
	d.space()
	if d.i >= len(d.buf) || d.buf[d.i] != open {
		return false, d.expected(fmt.Sprintf("%q to open %s", open, what))
	}
	d.i++
	d.space()
	if d.i < len(d.buf) && d.buf[d.i] == close {
		d.i++
		return true, nil
	}
	return false, nil
}

// next consumes the comma before another member (true) or the closing
// bracket (false).
func (d *jsonDecoder) next(close byte) (bool, error) {
	d.space()
	if d.i < len(d.buf) {
		switch d.buf[d.i] {
		case ',':
			d.i++
			return true, nil
		case close:
			d.i++
			return false, nil
		}
	}
	return false, d.expected(fmt.Sprintf("%q or %q", ',', close))
}

// expected describes what should have come next.
func (d *jsonDecoder) expected(what string) error {
	if d.i >= len(d.buf) {
		return d.errorf("unexpected end of input, expected %s", what)
	}
	r, _ := utf8.DecodeRune(d.buf[d.i:])
	return d.errorf("unexpected %q, expected %s", r, what)
}

// key reads an object key and its colon.
func (d *jsonDecoder) key() ([]byte, error) {
	d.space()
	if d.i >= len(d.buf) || d.buf[d.i] != '"' {
		return nil, d.expected("a key string")
	}
	k, err := d.str()
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i >= len(d.buf) || d.buf[d.i] != ':' {
		return nil, d.expected(`":"`)
	}
	d.i++
	return k, nil
}

// str reads the string starting at d.i and returns its contents,
// unescaping them in place when needed.
func (d *jsonDecoder) str() ([]byte, error) {
	d.i++ // the opening quote
	start := d.i
	for d.i < len(d.buf) {
		switch c := d.buf[d.i]; {
		case c == '"':
			d.i++
			return d.buf[start : d.i-1], nil
		case c == '\\':
			return d.unescape(start)
		case c < 0x20:
			return nil, d.errorf("control character %q in string", c)
		}
		d.i++
	}
	return nil, d.errorf("unterminated string")
}

// unescape continues str from the first backslash, writing the unescaped
// contents from start on: writing never overtakes reading, since no escape
// is shorter than what it stands for.
func (d *jsonDecoder) unescape(start int) ([]byte, error) {
	w := d.i
	for d.i < len(d.buf) {
		c := d.buf[d.i]
		switch {
		case c == '"':
			d.i++
			return d.buf[start:w], nil
		case c < 0x20:
			return nil, d.errorf("control character %q in string", c)
		case c != '\\':
			d.buf[w] = c
			w++
			d.i++
			continue
		}
		if d.i+1 >= len(d.buf) {
			break
		}
		esc := d.buf[d.i+1]
		switch esc {
		case '"', '\\', '/':
		case 'b':
			esc = '\b'
		case 'f':
			esc = '\f'
		case 'n':
			esc = '\n'
		case 'r':
			esc = '\r'
		case 't':
			esc = '\t'
		case 'u':
			r, ok := hex4(d.buf[d.i+2:])
			if !ok {
				return nil, d.errorf(`invalid \u escape`)
			}
			d.i += 6
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; anything else is U+FFFD, as
				// encoding/json has it.
				r2 := rune(-1)
				if len(d.buf)-d.i >= 6 && d.buf[d.i] == '\\' && d.buf[d.i+1] == 'u' {
					r2, _ = hex4(d.buf[d.i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					d.i += 6
				} else {
					r = utf8.RuneError
				}
			}
			w += utf8.EncodeRune(d.buf[w:], r)
			continue
		default:
			return nil, d.errorf("invalid escape %q in string", "\\"+string(rune(esc)))
		}
		d.buf[w] = esc
		w++
		d.i += 2
	}
	return nil, d.errorf("unterminated string")
}

// hex4 decodes the 4 hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skip skips any JSON value, checking its syntax.
func (d *jsonDecoder) skip(depth int) error {
	if depth > maxJSONDepth {
		return d.errorf("values nested too deeply")
	}
	d.space()
	if d.i >= len(d.buf) {
		return d.expected("a value")
	}
	switch c := d.buf[d.i]; c {
	case '"':
		_, err := d.str()
		return err
	case '{', '[':
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		empty, err := d.begin(c, close, "a value")
		if err != nil {
			return err
		}
		for more := !empty; more; {
			if c == '{' {
				if _, err := d.key(); err != nil {
					return err
				}
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			if more, err = d.next(close); err != nil {
				return err
			}
		}
		return nil
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	return d.number()
}

// literal consumes word.
func (d *jsonDecoder) literal(word string) error {
	if len(d.buf)-d.i >= len(word) && string(d.buf[d.i:d.i+len(word)]) == word {
		d.i += len(word)
		return nil
	}
	return d.expected("a value")
}

// number consumes a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jsonDecoder) number() error {
	start := d.i
	if d.i < len(d.buf) && d.buf[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.buf) && d.buf[d.i] == '0':
		d.i++
	case d.digits() == 0:
		d.i = start
		return d.expected("a value")
	}
	if d.i < len(d.buf) && d.buf[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return d.expected("a digit")
		}
	}
	if d.i < len(d.buf) && (d.buf[d.i] == 'e' || d.buf[d.i] == 'E') {
		d.i++
		if d.i < len(d.buf) && (d.buf[d.i] == '+' || d.buf[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return d.expected("a digit")
		}
	}
	return nil
}

// digits consumes [0-9]* and returns how many.
func (d *jsonDecoder) digits() int {
	start := d.i
	for d.i < len(d.buf) && '0' <= d.buf[d.i] && d.buf[d.i] <= '9' {
		d.i++
	}
	return d.i - start
}
