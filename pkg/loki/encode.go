package loki

import (
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON encodes d the way Loki does: resultType, encodingFlags (only
// when non-empty), result, then stats (only when set). In the categorized
// form every entry carries its third element, as Loki writes it ({} when the
// entry has neither structured metadata nor parsed labels).
func (d QueryData) MarshalJSON() ([]byte, error) {
	buf := make([]byte, 0, 256)
	buf = append(buf, `{"resultType":`...)
	buf = appendString(buf, string(d.ResultType))
	if len(d.EncodingFlags) > 0 {
		buf = append(buf, `,"encodingFlags":[`...)
		for i, f := range d.EncodingFlags {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, f)
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `,"result":`...)
	switch d.ResultType {
	case ResultTypeStreams:
		categorized := d.Categorized()
		buf = append(buf, '[')
		for i := range d.Streams {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendStream(buf, &d.Streams[i], categorized)
		}
		buf = append(buf, ']')
	case ResultTypeMatrix:
		buf = append(buf, '[')
		for i := range d.Matrix {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendSeries(buf, &d.Matrix[i])
		}
		buf = append(buf, ']')
	case ResultTypeVector:
		buf = append(buf, '[')
		for i := range d.Vector {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendSample(buf, &d.Vector[i])
		}
		buf = append(buf, ']')
	case ResultTypeScalar:
		if d.Scalar == nil {
			buf = append(buf, "null"...)
		} else {
			buf = appendPoint(buf, *d.Scalar)
		}
	default:
		return nil, fmt.Errorf("encode query data: unknown result type %q", d.ResultType)
	}
	if len(d.Stats) > 0 {
		buf = append(buf, `,"stats":`...)
		buf = append(buf, d.Stats...)
	}
	return append(buf, '}'), nil
}

// MarshalJSON encodes s as {"stream":{...},"values":[...]}.
func (s Stream) MarshalJSON() ([]byte, error) {
	return appendStream(nil, &s, false), nil
}

// MarshalJSON encodes e as [ts, line] or, when it has structured metadata or
// parsed labels, [ts, line, {"structuredMetadata":{...},"parsed":{...}}]
// with an empty one of the two left out.
func (e Entry) MarshalJSON() ([]byte, error) {
	return appendEntry(nil, &e, false), nil
}

// MarshalJSON encodes s as {"metric":{...},"values":[...]}.
func (s Series) MarshalJSON() ([]byte, error) {
	return appendSeries(nil, &s), nil
}

// MarshalJSON encodes s as {"metric":{...},"value":[...]}.
func (s Sample) MarshalJSON() ([]byte, error) {
	return appendSample(nil, &s), nil
}

// MarshalJSON encodes p as [seconds, "value"] exactly as Loki does.
func (p Point) MarshalJSON() ([]byte, error) {
	return appendPoint(nil, p), nil
}

func appendStream(buf []byte, s *Stream, categorized bool) []byte {
	buf = append(buf, `{"stream":`...)
	buf = appendLabels(buf, s.Labels)
	buf = append(buf, `,"values":[`...)
	for i := range s.Entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendEntry(buf, &s.Entries[i], categorized)
	}
	return append(buf, "]}"...)
}

// appendEntry writes the third element when forced (categorized answers,
// where Loki always writes it) or when the entry has labels to carry.
func appendEntry(buf []byte, e *Entry, forceThird bool) []byte {
	buf = append(buf, `["`...)
	buf = strconv.AppendInt(buf, e.Time, 10)
	buf = append(buf, `",`...)
	buf = appendString(buf, e.Line)
	if forceThird || len(e.StructuredMetadata) > 0 || len(e.Parsed) > 0 {
		buf = append(buf, ",{"...)
		if len(e.StructuredMetadata) > 0 {
			buf = append(buf, `"structuredMetadata":`...)
			buf = appendLabels(buf, e.StructuredMetadata)
		}
		if len(e.Parsed) > 0 {
			if len(e.StructuredMetadata) > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `"parsed":`...)
			buf = appendLabels(buf, e.Parsed)
		}
		buf = append(buf, '}')
	}
	return append(buf, ']')
}

func appendSeries(buf []byte, s *Series) []byte {
	buf = append(buf, `{"metric":`...)
	buf = appendLabels(buf, s.Metric)
	buf = append(buf, `,"values":[`...)
	for i, p := range s.Values {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendPoint(buf, p)
	}
	return append(buf, "]}"...)
}

func appendSample(buf []byte, s *Sample) []byte {
	buf = append(buf, `{"metric":`...)
	buf = appendLabels(buf, s.Metric)
	buf = append(buf, `,"value":`...)
	buf = appendPoint(buf, s.Value)
	return append(buf, '}')
}

// appendPoint writes [seconds, "value"]: seconds as an integer when whole,
// else with the millisecond fraction (trailing zeros trimmed), and the value
// formatted like Prometheus (shortest 'f' form, "NaN", "+Inf", "-Inf").
func appendPoint(buf []byte, p Point) []byte {
	buf = append(buf, '[')
	buf = appendMillisAsSeconds(buf, p.Time)
	buf = append(buf, `,"`...)
	buf = strconv.AppendFloat(buf, p.Value, 'f', -1, 64)
	return append(buf, `"]`...)
}

func appendMillisAsSeconds(buf []byte, ms int64) []byte {
	u := uint64(ms)
	if ms < 0 {
		buf = append(buf, '-')
		u = -u // two's complement magnitude, correct for math.MinInt64 too
	}
	buf = strconv.AppendUint(buf, u/1000, 10)
	frac := u % 1000
	if frac == 0 {
		return buf
	}
	digits := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := 3
	for digits[n-1] == '0' {
		n--
	}
	buf = append(buf, '.')
	return append(buf, digits[:n]...)
}

// appendLabels writes a label map as a JSON object with sorted keys (the
// order Loki uses); a nil map is written as {}.
func appendLabels(buf []byte, m map[string]string) []byte {
	var small [32]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, k)
		buf = append(buf, ':')
		buf = appendString(buf, m[k])
	}
	return append(buf, '}')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string escaped the way encoding/json does
// (HTML-safe, invalid UTF-8 replaced by U+FFFD, U+2028/U+2029 escaped).
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '"', '\\':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
