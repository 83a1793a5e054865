package loki

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Decoding has two paths. The fast one (fastdecode.go) reads Loki's own
// shapes in a single pass. The slow one, below, is built on encoding/json
// through mirror types that never call the fast path, so that each path can
// be checked against the other; it handles everything else and produces the
// errors.

// UnmarshalJSON decodes a query answer.
func (r *QueryResponse) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	if fast, ok := fastQueryResponse(string(b)); ok {
		*r = fast
		return nil
	}
	return r.unmarshalSlow(b)
}

// slowQueryResponse mirrors QueryResponse for the slow path.
type slowQueryResponse struct {
	Status   string        `json:"status"`
	Warnings []string      `json:"warnings"`
	Data     slowQueryData `json:"data"`
}

type slowQueryData QueryData

func (d *slowQueryData) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	return (*QueryData)(d).unmarshalSlow(b)
}

// unmarshalSlow decodes with encoding/json. On error, the fields decoded
// before the failure (status, typically) are kept.
func (r *QueryResponse) unmarshalSlow(b []byte) error {
	var wire slowQueryResponse
	err := json.Unmarshal(b, &wire)
	*r = QueryResponse{Status: wire.Status, Warnings: wire.Warnings, Data: QueryData(wire.Data)}
	return err
}

// UnmarshalJSON decodes Loki's "data" object, decoding "result" according
// to "resultType". An unknown or missing resultType is an error.
func (d *QueryData) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	if fast, ok := fastQueryData(string(b)); ok {
		*d = fast
		return nil
	}
	return d.unmarshalSlow(b)
}

// Mirror types of the slow path.
type (
	slowStream struct {
		Labels  map[string]string `json:"stream"`
		Entries []slowEntry       `json:"values"`
	}
	slowEntry  Entry
	slowSeries struct {
		Metric map[string]string `json:"metric"`
		Values []slowPoint       `json:"values"`
	}
	slowSample struct {
		Metric map[string]string `json:"metric"`
		Value  slowPoint         `json:"value"`
	}
	slowPoint Point
)

func (e *slowEntry) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	return (*Entry)(e).unmarshalSlow(b)
}

func (p *slowPoint) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	return (*Point)(p).unmarshalSlow(b)
}

func (d *QueryData) unmarshalSlow(b []byte) error {
	var wire struct {
		ResultType    ResultType      `json:"resultType"`
		EncodingFlags []string        `json:"encodingFlags"`
		Result        json.RawMessage `json:"result"`
		Stats         json.RawMessage `json:"stats"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return fmt.Errorf("decode query data: %w", err)
	}
	out := QueryData{
		ResultType:    wire.ResultType,
		EncodingFlags: wire.EncodingFlags,
		Stats:         wire.Stats,
	}
	switch wire.ResultType {
	case ResultTypeStreams, ResultTypeMatrix, ResultTypeVector, ResultTypeScalar:
	case "":
		return errors.New("decode query data: missing resultType")
	default:
		return fmt.Errorf("decode query data: unknown resultType %q", wire.ResultType)
	}
	if !isNull(wire.Result) {
		if err := out.unmarshalSlowResult(wire.Result); err != nil {
			return fmt.Errorf("decode %s result: %w", wire.ResultType, err)
		}
	}
	*d = out
	return nil
}

func (d *QueryData) unmarshalSlowResult(raw json.RawMessage) error {
	switch d.ResultType {
	case ResultTypeStreams:
		var streams []slowStream
		if err := json.Unmarshal(raw, &streams); err != nil {
			return err
		}
		d.Streams = make([]Stream, len(streams))
		for i, s := range streams {
			d.Streams[i] = Stream{Labels: s.Labels, Entries: entriesOf(s.Entries)}
		}
	case ResultTypeMatrix:
		var matrix []slowSeries
		if err := json.Unmarshal(raw, &matrix); err != nil {
			return err
		}
		d.Matrix = make([]Series, len(matrix))
		for i, s := range matrix {
			d.Matrix[i] = Series{Metric: s.Metric, Values: pointsOf(s.Values)}
		}
	case ResultTypeVector:
		var vector []slowSample
		if err := json.Unmarshal(raw, &vector); err != nil {
			return err
		}
		d.Vector = make([]Sample, len(vector))
		for i, s := range vector {
			d.Vector[i] = Sample{Metric: s.Metric, Value: Point(s.Value)}
		}
	case ResultTypeScalar:
		var p slowPoint
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		d.Scalar = (*Point)(&p)
	}
	return nil
}

func entriesOf(in []slowEntry) []Entry {
	if in == nil {
		return nil
	}
	out := make([]Entry, len(in))
	for i, e := range in {
		out[i] = Entry(e)
	}
	return out
}

func pointsOf(in []slowPoint) []Point {
	if in == nil {
		return nil
	}
	out := make([]Point, len(in))
	for i, p := range in {
		out[i] = Point(p)
	}
	return out
}

// UnmarshalJSON decodes [ts, line] or [ts, line, {"structuredMetadata":
// {...}, "parsed": {...}}], ts being a decimal string of Unix nanoseconds.
func (e *Entry) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	if fast, ok := fastEntry(string(b)); ok {
		*e = fast
		return nil
	}
	return e.unmarshalSlow(b)
}

func (e *Entry) unmarshalSlow(b []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return fmt.Errorf("decode entry: %w", err)
	}
	if len(parts) != 2 && len(parts) != 3 {
		return fmt.Errorf("decode entry: want 2 or 3 elements, got %d", len(parts))
	}
	var ts string
	if err := json.Unmarshal(parts[0], &ts); err != nil {
		return fmt.Errorf("decode entry timestamp: %w", err)
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("decode entry timestamp: %w", err)
	}
	out := Entry{Time: t}
	if err := json.Unmarshal(parts[1], &out.Line); err != nil {
		return fmt.Errorf("decode entry line: %w", err)
	}
	if len(parts) == 3 && !isNull(parts[2]) {
		var labels struct {
			StructuredMetadata map[string]string `json:"structuredMetadata"`
			Parsed             map[string]string `json:"parsed"`
		}
		if err := json.Unmarshal(parts[2], &labels); err != nil {
			return fmt.Errorf("decode entry labels: %w", err)
		}
		out.StructuredMetadata = labels.StructuredMetadata
		out.Parsed = labels.Parsed
	}
	*e = out
	return nil
}

// UnmarshalJSON decodes [seconds, "value"]; seconds is a JSON number that
// may carry a fraction, kept to the millisecond (further digits truncated).
func (p *Point) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	if fast, ok := fastPoint(string(b)); ok {
		*p = fast
		return nil
	}
	return p.unmarshalSlow(b)
}

func (p *Point) unmarshalSlow(b []byte) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return fmt.Errorf("decode point: %w", err)
	}
	if len(parts) != 2 {
		return fmt.Errorf("decode point: want 2 elements, got %d", len(parts))
	}
	ms, err := parseSecondsAsMillis(string(parts[0]))
	if err != nil {
		return fmt.Errorf("decode point timestamp: %w", err)
	}
	var s string
	if err := json.Unmarshal(parts[1], &s); err != nil {
		return fmt.Errorf("decode point value: %w", err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("decode point value: %w", err)
	}
	*p = Point{Time: ms, Value: v}
	return nil
}

// parseSecondsAsMillis turns a JSON number of seconds into milliseconds
// without going through float64 when it is written in plain decimal form.
func parseSecondsAsMillis(s string) (int64, error) {
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, fmt.Errorf("%.40q is not a number", s)
	}
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, err
		}
		ms := math.Round(f * 1000)
		if !(ms >= math.MinInt64 && ms < math.MaxInt64) {
			return 0, fmt.Errorf("%.40q is out of range", s)
		}
		return int64(ms), nil
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, err
	}
	if sec > math.MaxInt64/1000 || sec < math.MinInt64/1000 {
		return 0, fmt.Errorf("%.40q is out of range", s)
	}
	ms := sec * 1000
	if !hasFrac {
		return ms, nil
	}
	if frac == "" {
		return 0, fmt.Errorf("%.40q is not a number", s)
	}
	var n int64
	for i := range max(len(frac), 3) {
		var c byte = '0'
		if i < len(frac) {
			c = frac[i]
		}
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%.40q is not a number", s)
		}
		if i < 3 { // milliseconds; finer digits are truncated
			n = n*10 + int64(c-'0')
		}
	}
	if strings.HasPrefix(intPart, "-") {
		if ms < math.MinInt64+n {
			return 0, fmt.Errorf("%.40q is out of range", s)
		}
		return ms - n, nil
	}
	if ms > math.MaxInt64-n {
		return 0, fmt.Errorf("%.40q is out of range", s)
	}
	return ms + n, nil
}

func isNull(b []byte) bool {
	return len(b) == 0 || bytes.Equal(b, []byte("null"))
}
