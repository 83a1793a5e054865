package loki

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

const fixturePath = "../../testdata/loki/cases.json"

// fixtureCase is one recorded request/answer of a real Loki 3.7.6.
type fixtureCase struct {
	Name    string `json:"name"`
	Note    string `json:"note"`
	Request struct {
		Method  string                 `json:"method"`
		Path    string                 `json:"path"`
		Params  map[string]paramValues `json:"params"`
		Headers map[string]string      `json:"headers"`
	} `json:"request"`
	Response struct {
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	} `json:"response"`
}

// paramValues is a query parameter recorded as a string or a list.
type paramValues []string

func (p *paramValues) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = paramValues{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(p))
}

// caseKind tells which decoder and client call a recorded path belongs to.
type caseKind int

const (
	kindUnknown caseKind = iota
	kindQueryRange
	kindQuery
	kindLabels
	kindLabelValues
	kindSeries
	kindVolume    // QueryResponse-shaped, but not a client call
	kindBuildInfo // not a client call
)

func kindOf(path string) caseKind {
	switch {
	case path == "/loki/api/v1/query_range":
		return kindQueryRange
	case path == "/loki/api/v1/query":
		return kindQuery
	case path == "/loki/api/v1/labels":
		return kindLabels
	case strings.HasPrefix(path, "/loki/api/v1/label/") && strings.HasSuffix(path, "/values"):
		return kindLabelValues
	case path == "/loki/api/v1/series":
		return kindSeries
	case path == "/loki/api/v1/index/volume":
		return kindVolume
	case path == "/loki/api/v1/status/buildinfo":
		return kindBuildInfo
	}
	return kindUnknown
}

func loadCases(tb testing.TB) []fixtureCase {
	tb.Helper()
	raw, err := os.ReadFile(fixturePath)
	if err != nil {
		tb.Fatalf("read fixtures: %v", err)
	}
	var cases []fixtureCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		tb.Fatalf("decode fixtures: %v", err)
	}
	if len(cases) == 0 {
		tb.Fatal("no fixture cases")
	}
	return cases
}

// param returns the single value of a recorded parameter ("" when absent).
func (fc *fixtureCase) param(name string) string {
	if v := fc.Request.Params[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (fc *fixtureCase) categorized() bool {
	return fc.Request.Headers["X-Loki-Response-Encoding-Flags"] == EncodingFlagCategorizeLabels
}

// errorText is the plain-text body of a recorded non-200 answer.
func (fc *fixtureCase) errorText(tb testing.TB) string {
	tb.Helper()
	var s string
	if err := json.Unmarshal(fc.Response.Body, &s); err != nil {
		tb.Fatalf("error body of %s is not a string: %v", fc.Name, err)
	}
	return s
}

func mustNanos(tb testing.TB, s string) time.Time {
	tb.Helper()
	if s == "" {
		return time.Time{}
	}
	ns, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		tb.Fatalf("parse ns time %q: %v", s, err)
	}
	return time.Unix(0, ns)
}

// jsonEqual compares two JSON texts as values (numbers as numbers).
func jsonEqual(tb testing.TB, got, want []byte) bool {
	tb.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		tb.Fatalf("decode got: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		tb.Fatalf("decode want: %v", err)
	}
	return reflect.DeepEqual(g, w)
}

func compact(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		tb.Fatalf("compact: %v", err)
	}
	return buf.Bytes()
}

// largestStreamsBody is the biggest recorded streams answer, compacted.
func largestStreamsBody(tb testing.TB) []byte {
	tb.Helper()
	var best []byte
	for _, fc := range loadCases(tb) {
		if fc.Response.Status != 200 || (kindOf(fc.Request.Path) != kindQueryRange && kindOf(fc.Request.Path) != kindQuery) {
			continue
		}
		var probe struct {
			Data struct {
				ResultType ResultType `json:"resultType"`
			} `json:"data"`
		}
		if err := json.Unmarshal(fc.Response.Body, &probe); err != nil {
			tb.Fatalf("probe %s: %v", fc.Name, err)
		}
		if probe.Data.ResultType != ResultTypeStreams {
			continue
		}
		if body := compact(tb, fc.Response.Body); len(body) > len(best) {
			best = body
		}
	}
	if best == nil {
		tb.Fatal("no streams answer in fixtures")
	}
	return best
}
