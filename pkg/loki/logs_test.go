package loki

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/jsonscan"
)

// sameLogs reports whether logs holds the entries of resp's streams, in
// order, with the same labels (as maps: the last of a repeated name wins).
func sameLogs(logs *Logs, resp *QueryResponse) bool {
	i := 0
	for _, st := range resp.Data.Streams {
		for _, e := range st.Entries {
			if i >= len(logs.Entries) {
				return false
			}
			got := &logs.Entries[i]
			i++
			if got.Time != e.Time || got.Line() != e.Line ||
				!sameLabels(got.Stream, st.Labels) ||
				!sameLabels(got.Metadata, e.StructuredMetadata) ||
				!sameLabels(got.Parsed, e.Parsed) {
				return false
			}
		}
	}
	return i == len(logs.Entries)
}

func sameLabels(ls []Label, m map[string]string) bool {
	got := map[string]string{}
	for _, l := range ls {
		got[l.Name] = l.Value
	}
	return maps.Equal(got, m)
}

// TestLogsOnFixtures checks that every real streams answer takes the flat
// fast path and holds what the map-based decoder reads.
func TestLogsOnFixtures(t *testing.T) {
	n := 0
	for _, fc := range loadCases(t) {
		if fc.Response.Status != 200 || kindOf(fc.Request.Path) != kindQueryRange {
			continue
		}
		resp, err := decodeQueryResponse(fc.Response.Body)
		if err != nil || resp.Data.ResultType != ResultTypeStreams {
			continue
		}
		n++
		t.Run(fc.Name, func(t *testing.T) {
			logs, ok := fastLogs(string(fc.Response.Body))
			if !ok {
				t.Fatal("fast flat decoder refused a real Loki answer")
			}
			if !sameLogs(logs, resp) {
				t.Error("flat entries differ from the decoded streams")
			}
		})
	}
	if n == 0 {
		t.Fatal("no streams answer in fixtures")
	}
}

func TestDecodeLogs(t *testing.T) {
	tests := []struct {
		name, body string
		wantErr    string
		want       []LogEntry
	}{{
		name: "categorized",
		body: `{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[` +
			`{"stream":{"job":"a","host":"h"},"values":[["2","{\"x\":\"\u00e9\"}",{"structuredMetadata":{"pod":"p"},"parsed":{"x":"é"}}],["1","plain"]]},` +
			`{"values":[["3","l3",{}]],"stream":{"job":"b"}}]}}`,
		want: []LogEntry{
			{Time: 2, Quoted: `{\"x\":\"\u00e9\"}`, Stream: []Label{{"job", "a"}, {"host", "h"}}, Metadata: []Label{{"pod", "p"}}, Parsed: []Label{{"x", "é"}}},
			{Time: 1, Quoted: "plain", Stream: []Label{{"job", "a"}, {"host", "h"}}},
			{Time: 3, Quoted: "l3", Stream: []Label{{"job", "b"}}},
		},
	}, {
		name: "general path: null labels, sorted",
		body: `{"status":"success","data":{"resultType":"streams","result":[{"stream":{"z":"1","a":"2"},"values":[["5","\"\u00e9",null]]}]}}`,
		want: []LogEntry{{Time: 5, Quoted: `\"é`, Stream: []Label{{"a", "2"}, {"z", "1"}}}},
	}, {
		name:    "matrix",
		body:    `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
		wantErr: "got a matrix result, want streams",
	}, {
		name:    "error status",
		body:    `{"status":"error","errorType":"bad_data","error":"boom"}`,
		wantErr: "boom",
	}, {
		name:    "truncated",
		body:    `{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[["1","x"]`,
		wantErr: "decode response",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs, err := decodeLogs([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(logs.Entries) != len(tt.want) {
				t.Fatalf("got %d entries, want %d", len(logs.Entries), len(tt.want))
			}
			for i, w := range tt.want {
				g := logs.Entries[i]
				if g.Time != w.Time || g.Quoted != w.Quoted || !slices.Equal(g.Stream, w.Stream) ||
					!slices.Equal(g.Metadata, w.Metadata) || !slices.Equal(g.Parsed, w.Parsed) {
					t.Errorf("entry %d = %+v, want %+v", i, g, w)
				}
				if line, _ := jsonscan.Unquote(w.Quoted); g.Line() != line {
					t.Errorf("entry %d: line %q, want %q", i, g.Line(), line)
				}
			}
		})
	}
}

func TestQueryLogs(t *testing.T) {
	rec := &recorder{status: http.StatusOK, body: []byte(
		`{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{"job":"a"},"values":[["7","line",{"structuredMetadata":{"pod":"p"}}]]}]}}`)}
	c := newTestClient(t, rec, Config{})
	logs, err := c.QueryLogs(t.Context(), RangeQuery{Query: `{job="a"}`, Start: time.Unix(1, 0), End: time.Unix(2, 0), Limit: 10, Direction: Backward, Categorize: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs.Entries) != 1 || logs.Entries[0].Line() != "line" || !slices.Equal(logs.Entries[0].Metadata, []Label{{"pod", "p"}}) {
		t.Fatalf("got %+v", logs.Entries)
	}
	got := rec.last()
	if got.path != "/loki/api/v1/query_range" || got.query.Get("limit") != "10" || got.query.Get("direction") != "backward" ||
		got.header.Get(headerEncodingFlags) != EncodingFlagCategorizeLabels {
		t.Errorf("request %s %v %v", got.path, got.query, got.header)
	}

	rec.status, rec.body = http.StatusBadRequest, []byte(`parse error`)
	_, err = c.QueryLogs(t.Context(), RangeQuery{Query: `{`})
	var lerr *Error
	if !errors.As(err, &lerr) || lerr.StatusCode != http.StatusBadRequest || !strings.HasPrefix(err.Error(), "query loki: ") {
		t.Errorf("err = %v, want a 400 *Error", err)
	}
	if _, err := c.QueryLogs(t.Context(), RangeQuery{}); err == nil {
		t.Error("empty query accepted")
	}
}
