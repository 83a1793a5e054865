package loki

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/activityaudit/activityaudit/pkg/jsonscan"
)

// The fast decoder below reads the exact shapes Loki writes in one pass. It
// gives up (ok == false) on anything else: unknown or duplicate keys, nulls,
// result before resultType, malformed values. Its callers then fall back to
// the encoding/json-based decoder, which defines the semantics (and the
// error messages); the fast decoder only ever accepts input that the slow
// one decodes to the same value (checked by FuzzDecodeQueryResponse).

type fastScanner struct {
	s string // the input
	i int
	// arena holds the strings that had to be unescaped, so that they do not
	// take an allocation each; the others are substrings of s.
	arena strings.Builder
}

func newFastScanner(s string) *fastScanner { return &fastScanner{s: s} }

func (s *fastScanner) skipSpace() {
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, if c is next.
func (s *fastScanner) consume(c byte) bool {
	s.skipSpace()
	if s.i < len(s.s) && s.s[s.i] == c {
		s.i++
		return true
	}
	return false
}

// atEnd reports whether only white space is left.
func (s *fastScanner) atEnd() bool {
	s.skipSpace()
	return s.i == len(s.s)
}

// str reads a JSON string, unescaped the way encoding/json does it. A
// string without escapes and with valid UTF-8 is a substring of the input;
// the others are unescaped into the arena.
func (s *fastScanner) str() (string, bool) {
	s.skipSpace()
	if s.i >= len(s.s) || s.s[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	for j := start; j < len(s.s); {
		j = jsonscan.SkipPlain(s.s, j)
		if j >= len(s.s) {
			break
		}
		c := s.s[j]
		switch {
		case c == '"':
			s.i = j + 1
			return s.s[start:j], true
		case c == '\\':
			return s.strEscaped(start, j)
		case c < 0x20:
			return "", false
		default:
			r, size := utf8.DecodeRuneInString(s.s[j:])
			if r == utf8.RuneError && size == 1 {
				return s.strEscaped(start, j)
			}
			j += size
		}
	}
	return "", false
}

// quotedStr reads a JSON string like str, but returns its contents as they
// are, still escaped (jsonscan.Unquote unescapes them).
func (s *fastScanner) quotedStr() (string, bool) {
	s.skipSpace()
	if s.i >= len(s.s) || s.s[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	end := jsonscan.SkipQuoted(s.s, start)
	if end < 0 {
		return "", false
	}
	s.i = end + 1
	return s.s[start:end], true
}

// strEscaped finishes a string that has escapes or invalid UTF-8 into the
// arena; the bytes in [start, j) need no change. Invalid UTF-8 and unpaired
// surrogates become U+FFFD, as with encoding/json.
func (s *fastScanner) strEscaped(start, j int) (string, bool) {
	if s.arena.Cap() == 0 {
		s.arena.Grow(len(s.s) - start) // once: most of what is left are such strings
	}
	mark := s.arena.Len()
	run := start // start of the bytes to copy as they are
	for j < len(s.s) {
		if j = jsonscan.SkipPlain(s.s, j); j >= len(s.s) {
			break
		}
		switch c := s.s[j]; {
		case c == '"':
			s.arena.WriteString(s.s[run:j])
			s.i = j + 1
			return s.arena.String()[mark:], true
		case c == '\\':
			s.arena.WriteString(s.s[run:j])
			if j+1 < len(s.s) && (s.s[j+1] == '"' || s.s[j+1] == '\\' || s.s[j+1] == '/') {
				// The escaped byte stands for itself: it starts the next run.
				run, j = j+1, j+2
				continue
			}
			n, ok := s.unescape(j)
			if !ok {
				return "", false
			}
			j += n
			run = j
		case c < 0x20:
			return "", false
		default:
			r, size := utf8.DecodeRuneInString(s.s[j:])
			if r == utf8.RuneError && size == 1 {
				s.arena.WriteString(s.s[run:j])
				s.arena.WriteRune(utf8.RuneError)
				run = j + 1
			}
			j += size
		}
	}
	return "", false
}

// unescape writes what the escape sequence at j (a backslash) stands for to
// the arena and returns its length.
func (s *fastScanner) unescape(j int) (int, bool) {
	if j+1 >= len(s.s) {
		return 0, false
	}
	switch e := s.s[j+1]; e {
	case '"', '\\', '/':
		s.arena.WriteByte(e)
	case 'b':
		s.arena.WriteByte('\b')
	case 'f':
		s.arena.WriteByte('\f')
	case 'n':
		s.arena.WriteByte('\n')
	case 'r':
		s.arena.WriteByte('\r')
	case 't':
		s.arena.WriteByte('\t')
	case 'u':
		r, ok := jsonscan.Hex4(s.s[j+2:])
		if !ok {
			return 0, false
		}
		n := 6
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if j+n+1 < len(s.s) && s.s[j+n] == '\\' && s.s[j+n+1] == 'u' {
				if lo, ok := jsonscan.Hex4(s.s[j+n+2:]); ok {
					r2 = lo
				}
			}
			if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
				r = pair
				n += 6
			} else {
				r = utf8.RuneError
			}
		}
		s.arena.WriteRune(r)
		return n, true
	default:
		return 0, false
	}
	return 2, true
}

// number reads a JSON number token (grammar checked, not converted).
func (s *fastScanner) number() (string, bool) {
	s.skipSpace()
	b, start := s.s, s.i
	i := start
	digits := func() bool {
		n := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		digits()
	default:
		return "", false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return "", false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return "", false
		}
	}
	s.i = i
	return b[start:i], true
}

// skipValue skips any JSON value (used for opaque "stats"); the caller
// validates the span.
func (s *fastScanner) skipValue() bool {
	s.skipSpace()
	if s.i >= len(s.s) {
		return false
	}
	switch c := s.s[s.i]; c {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.s) {
			switch s.s[s.i] {
			case '"':
				if _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	default:
		for s.i < len(s.s) {
			switch s.s[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return true
			}
			s.i++
		}
		return true
	}
}

// list reads a JSON array, calling elem for each element.
func (s *fastScanner) list(elem func() bool) bool {
	if !s.consume('[') {
		return false
	}
	if s.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume(']')
	}
}

// fields reads a JSON object, calling field for each key; field reads the
// value. Duplicate keys make it fail.
func (s *fastScanner) fields(field func(key string) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	var seen [4]string
	n := 0
	for {
		key, ok := s.str()
		if !ok || !s.consume(':') {
			return false
		}
		for _, k := range seen[:n] {
			if k == key {
				return false
			}
		}
		if n < len(seen) {
			seen[n] = key
			n++
		} else {
			return false
		}
		if !field(key) {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

// labels reads an object of string values; {} gives an empty, non-nil map.
func (s *fastScanner) labels() (map[string]string, bool) {
	m := make(map[string]string)
	if !s.pairs(func(k, v string) { m[k] = v }) {
		return nil, false
	}
	return m, true
}

// pairs reads an object of string values, calling add for each in order.
func (s *fastScanner) pairs(add func(name, value string)) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		k, ok := s.str()
		if !ok || !s.consume(':') {
			return false
		}
		v, ok := s.str()
		if !ok {
			return false
		}
		add(k, v)
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

func (s *fastScanner) entry(e *Entry) bool {
	return s.entryWith(func(t int64) bool {
		line, ok := s.str()
		*e = Entry{Time: t, Line: line}
		return ok
	}, func(key string) bool {
		var ok bool
		switch key {
		case "structuredMetadata":
			e.StructuredMetadata, ok = s.labels()
		case "parsed":
			e.Parsed, ok = s.labels()
		}
		return ok
	})
}

// entryWith reads [ts, line] or [ts, line, {...}]: line reads the line,
// given the time; labels reads the value of each key of the third element.
func (s *fastScanner) entryWith(line func(t int64) bool, labels func(key string) bool) bool {
	if !s.consume('[') {
		return false
	}
	ts, ok := s.str()
	if !ok {
		return false
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !s.consume(',') || !line(t) {
		return false
	}
	if s.consume(',') && !s.fields(labels) {
		return false
	}
	return s.consume(']')
}

func (s *fastScanner) point(p *Point) bool {
	if !s.consume('[') {
		return false
	}
	num, ok := s.number()
	if !ok {
		return false
	}
	ms, err := parseSecondsAsMillis(num)
	if err != nil || !s.consume(',') {
		return false
	}
	str, ok := s.str()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return false
	}
	*p = Point{Time: ms, Value: v}
	return s.consume(']')
}

func (s *fastScanner) stream(st *Stream) bool {
	return s.fields(func(key string) bool {
		var ok bool
		switch key {
		case "stream":
			st.Labels, ok = s.labels()
		case "values":
			st.Entries = make([]Entry, 0, 8)
			ok = s.list(func() bool {
				st.Entries = append(st.Entries, Entry{})
				return s.entry(&st.Entries[len(st.Entries)-1])
			})
		}
		return ok
	})
}

func (s *fastScanner) series(sr *Series) bool {
	return s.fields(func(key string) bool {
		var ok bool
		switch key {
		case "metric":
			sr.Metric, ok = s.labels()
		case "values":
			sr.Values = make([]Point, 0, 8)
			ok = s.list(func() bool {
				sr.Values = append(sr.Values, Point{})
				return s.point(&sr.Values[len(sr.Values)-1])
			})
		}
		return ok
	})
}

func (s *fastScanner) sample(sm *Sample) bool {
	return s.fields(func(key string) bool {
		var ok bool
		switch key {
		case "metric":
			sm.Metric, ok = s.labels()
		case "value":
			ok = s.point(&sm.Value)
		}
		return ok
	})
}

func (s *fastScanner) result(d *QueryData) bool {
	switch d.ResultType {
	case ResultTypeStreams:
		d.Streams = make([]Stream, 0, 4)
		return s.list(func() bool {
			d.Streams = append(d.Streams, Stream{})
			return s.stream(&d.Streams[len(d.Streams)-1])
		})
	case ResultTypeMatrix:
		d.Matrix = make([]Series, 0, 4)
		return s.list(func() bool {
			d.Matrix = append(d.Matrix, Series{})
			return s.series(&d.Matrix[len(d.Matrix)-1])
		})
	case ResultTypeVector:
		d.Vector = make([]Sample, 0, 4)
		return s.list(func() bool {
			d.Vector = append(d.Vector, Sample{})
			return s.sample(&d.Vector[len(d.Vector)-1])
		})
	case ResultTypeScalar:
		d.Scalar = new(Point)
		return s.point(d.Scalar)
	}
	return false
}

// queryData reads a "data" object; result reads "result" once resultType
// is known.
func (s *fastScanner) queryData(d *QueryData, result func(d *QueryData) bool) bool {
	ok := s.fields(func(key string) bool {
		switch key {
		case "resultType":
			rt, ok := s.str()
			d.ResultType = ResultType(rt)
			return ok && rt != ""
		case "encodingFlags":
			d.EncodingFlags = []string{}
			return s.list(func() bool {
				f, ok := s.str()
				d.EncodingFlags = append(d.EncodingFlags, f)
				return ok
			})
		case "result":
			return d.ResultType != "" && result(d)
		case "stats":
			s.skipSpace()
			start := s.i
			if !s.skipValue() {
				return false
			}
			stats := json.RawMessage(s.s[start:s.i])
			d.Stats = stats
			return json.Valid(stats)
		}
		return false
	})
	return ok && d.ResultType != ""
}

// fastQueryResponse decodes a whole answer written the way Loki writes it.
func fastQueryResponse(text string) (QueryResponse, bool) {
	s := newFastScanner(text)
	var r QueryResponse
	if !s.response(&r, func() bool { return s.queryData(&r.Data, s.result) }) {
		return QueryResponse{}, false
	}
	return r, true
}

// response reads a whole answer but for "data", which data reads.
func (s *fastScanner) response(r *QueryResponse, data func() bool) bool {
	ok := s.fields(func(key string) bool {
		switch key {
		case "status":
			status, ok := s.str()
			r.Status = status
			return ok
		case "warnings":
			r.Warnings = []string{}
			return s.list(func() bool {
				w, ok := s.str()
				r.Warnings = append(r.Warnings, w)
				return ok
			})
		case "data":
			return data()
		}
		return false
	})
	return ok && s.atEnd()
}

// fastQueryData decodes a "data" object written the way Loki writes it.
func fastQueryData(text string) (QueryData, bool) {
	s := newFastScanner(text)
	var d QueryData
	if !s.queryData(&d, s.result) || !s.atEnd() {
		return QueryData{}, false
	}
	return d, true
}

// fastEntry decodes one entry written the way Loki writes it.
func fastEntry(text string) (Entry, bool) {
	s := newFastScanner(text)
	var e Entry
	if !s.entry(&e) || !s.atEnd() {
		return Entry{}, false
	}
	return e, true
}

// fastPoint decodes one point written the way Loki writes it.
func fastPoint(text string) (Point, bool) {
	s := newFastScanner(text)
	var p Point
	if !s.point(&p) || !s.atEnd() {
		return Point{}, false
	}
	return p, true
}
