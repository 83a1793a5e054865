package loki

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The fast decoder below reads the exact shapes Loki writes in one pass. It
// gives up (ok == false) on anything else: unknown or duplicate keys, nulls,
// result before resultType, malformed values. Its callers then fall back to
// the encoding/json-based decoder, which defines the semantics (and the
// error messages); the fast decoder only ever accepts input that the slow
// one decodes to the same value (checked by FuzzDecodeQueryResponse).

type fastScanner struct {
	b []byte
	i int
}

func (s *fastScanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
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
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// atEnd reports whether only white space is left.
func (s *fastScanner) atEnd() bool {
	s.skipSpace()
	return s.i == len(s.b)
}

// str reads a JSON string, unescaped the way encoding/json does it.
func (s *fastScanner) str() (string, bool) {
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return string(s.b[start:j]), true
		case c == '\\' || c >= utf8.RuneSelf:
			return s.strEscaped(start, j)
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

// strEscaped finishes a string that has escapes or non-ASCII bytes; the
// bytes in [start, j) are plain ASCII. Invalid UTF-8 and unpaired surrogates
// become U+FFFD, as with encoding/json.
func (s *fastScanner) strEscaped(start, j int) (string, bool) {
	end := j // find the closing quote to size the buffer
	for end < len(s.b) && s.b[end] != '"' {
		if s.b[end] == '\\' {
			end++
		}
		end++
	}
	out := make([]byte, 0, min(end, len(s.b))-start)
	out = append(out, s.b[start:j]...)
	for j < len(s.b) {
		c := s.b[j]
		switch {
		case c == '"':
			s.i = j + 1
			return string(out), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if j+1 >= len(s.b) {
				return "", false
			}
			switch e := s.b[j+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(s.b[j+2:])
				if r < 0 {
					return "", false
				}
				j += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if j+1 < len(s.b) && s.b[j] == '\\' && s.b[j+1] == 'u' {
						r2 = hex4(s.b[j+2:])
					}
					if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
						r = pair
						j += 6
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return "", false
			}
			j += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			j++
		default:
			r, size := utf8.DecodeRune(s.b[j:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, s.b[j:j+size]...)
			}
			j += size
		}
	}
	return "", false
}

// hex4 decodes the four hex digits at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// number reads a JSON number token (grammar checked, not converted).
func (s *fastScanner) number() ([]byte, bool) {
	s.skipSpace()
	b, start := s.b, s.i
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
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	s.i = i
	return b[start:i], true
}

// skipValue skips any JSON value (used for opaque "stats"); the caller
// validates the span.
func (s *fastScanner) skipValue() bool {
	s.skipSpace()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
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
		for s.i < len(s.b) {
			switch s.b[s.i] {
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
	if !s.consume('{') {
		return nil, false
	}
	m := make(map[string]string)
	if s.consume('}') {
		return m, true
	}
	for {
		k, ok := s.str()
		if !ok || !s.consume(':') {
			return nil, false
		}
		v, ok := s.str()
		if !ok {
			return nil, false
		}
		m[k] = v
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return m, true
		}
		return nil, false
	}
}

func (s *fastScanner) entry(e *Entry) bool {
	if !s.consume('[') {
		return false
	}
	ts, ok := s.str()
	if !ok {
		return false
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !s.consume(',') {
		return false
	}
	line, ok := s.str()
	if !ok {
		return false
	}
	*e = Entry{Time: t, Line: line}
	if s.consume(',') {
		ok := s.fields(func(key string) bool {
			var ok bool
			switch key {
			case "structuredMetadata":
				e.StructuredMetadata, ok = s.labels()
			case "parsed":
				e.Parsed, ok = s.labels()
			}
			return ok
		})
		if !ok {
			return false
		}
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

func (s *fastScanner) queryData(d *QueryData) bool {
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
			return d.ResultType != "" && s.result(d)
		case "stats":
			s.skipSpace()
			start := s.i
			if !s.skipValue() || !json.Valid(s.b[start:s.i]) {
				return false
			}
			d.Stats = append(json.RawMessage(nil), s.b[start:s.i]...)
			return true
		}
		return false
	})
	return ok && d.ResultType != ""
}

// fastQueryResponse decodes a whole answer written the way Loki writes it.
func fastQueryResponse(b []byte) (QueryResponse, bool) {
	s := fastScanner{b: b}
	var r QueryResponse
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
			return s.queryData(&r.Data)
		}
		return false
	})
	if !ok || !s.atEnd() {
		return QueryResponse{}, false
	}
	return r, true
}

// fastQueryData decodes a "data" object written the way Loki writes it.
func fastQueryData(b []byte) (QueryData, bool) {
	s := fastScanner{b: b}
	var d QueryData
	if !s.queryData(&d) || !s.atEnd() {
		return QueryData{}, false
	}
	return d, true
}

// fastEntry decodes one entry written the way Loki writes it.
func fastEntry(b []byte) (Entry, bool) {
	s := fastScanner{b: b}
	var e Entry
	if !s.entry(&e) || !s.atEnd() {
		return Entry{}, false
	}
	return e, true
}

// fastPoint decodes one point written the way Loki writes it.
func fastPoint(b []byte) (Point, bool) {
	s := fastScanner{b: b}
	var p Point
	if !s.point(&p) || !s.atEnd() {
		return Point{}, false
	}
	return p, true
}
