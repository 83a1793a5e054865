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

// UnmarshalJSON decodes Loki's "data" object, decoding "result" according
// to "resultType". An unknown or missing resultType is an error.
func (d *QueryData) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
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
	var target any
	switch wire.ResultType {
	case ResultTypeStreams:
		target = &out.Streams
	case ResultTypeMatrix:
		target = &out.Matrix
	case ResultTypeVector:
		target = &out.Vector
	case ResultTypeScalar:
		if !isNull(wire.Result) {
			out.Scalar = new(Point)
			target = out.Scalar
		}
	case "":
		return errors.New("decode query data: missing resultType")
	default:
		return fmt.Errorf("decode query data: unknown resultType %q", wire.ResultType)
	}
	if target != nil && !isNull(wire.Result) {
		if err := json.Unmarshal(wire.Result, target); err != nil {
			return fmt.Errorf("decode %s result: %w", wire.ResultType, err)
		}
	}
	*d = out
	return nil
}

// UnmarshalJSON decodes [ts, line] or [ts, line, {"structuredMetadata":
// {...}, "parsed": {...}}], ts being a decimal string of Unix nanoseconds.
func (e *Entry) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
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
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return fmt.Errorf("decode point: %w", err)
	}
	if len(parts) != 2 {
		return fmt.Errorf("decode point: want 2 elements, got %d", len(parts))
	}
	ms, err := parseSecondsAsMillis(parts[0])
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
func parseSecondsAsMillis(raw []byte) (int64, error) {
	s := string(raw)
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
