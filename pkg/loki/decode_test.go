package loki

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// queryFacts are concrete facts about recorded query answers.
var queryFacts = map[string]func(t *testing.T, r *QueryResponse){
	"list-source-backward": func(t *testing.T, r *QueryResponse) {
		first := r.Data.Streams[0]
		if got := first.Entries[0].Time; got != 1795687473890672038 {
			t.Errorf("first entry time = %d, want 1795687473890672038", got)
		}
		if first.Labels["container"] != "coredns" || first.Labels["source"] != "cmd" {
			t.Errorf("first stream labels = %v", first.Labels)
		}
		if !strings.Contains(first.Entries[0].Line, `"comm":"nginx"`) {
			t.Errorf("first line = %q", first.Entries[0].Line)
		}
	},
	"include-body-field": func(t *testing.T, r *QueryResponse) {
		e := r.Data.Streams[0].Entries[0]
		if e.StructuredMetadata["pod"] != "mysql-0" {
			t.Errorf(`StructuredMetadata["pod"] = %q, want "mysql-0"`, e.StructuredMetadata["pod"])
		}
		if e.Parsed["comm"] != "bash" {
			t.Errorf(`Parsed["comm"] = %q, want "bash"`, e.Parsed["comm"])
		}
		if e.Parsed["tty"] != "" || !hasKey(e.Parsed, "tty") {
			t.Errorf(`Parsed["tty"] should be present and empty: %v`, e.Parsed)
		}
		if _, ok := r.Data.Streams[0].Labels["pod"]; ok {
			t.Errorf("pod is structured metadata, not a stream label: %v", r.Data.Streams[0].Labels)
		}
		if e.Time != 1795687455381979501 {
			t.Errorf("time = %d", e.Time)
		}
	},
	"include-body-field-uncategorized": func(t *testing.T, r *QueryResponse) {
		s := r.Data.Streams[0]
		if s.Labels["comm"] != "bash" || s.Labels["pod"] != "mysql-0" {
			t.Errorf("merged labels lack parsed/structured metadata: %v", s.Labels)
		}
		if s.Entries[0].Time != 1795687381417379318 {
			t.Errorf("time = %d", s.Entries[0].Time)
		}
	},
	"trace-session": func(t *testing.T, r *QueryResponse) {
		n := 0
		for _, s := range r.Data.Streams {
			for _, e := range s.Entries {
				n++
				if e.StructuredMetadata["session"] != "node-a:1795687500000000000:9001" {
					t.Errorf("entry %d session = %q", e.Time, e.StructuredMetadata["session"])
				}
				if e.Parsed != nil {
					t.Errorf("entry %d has parsed labels without a parser: %v", e.Time, e.Parsed)
				}
			}
		}
		if n != 5 {
			t.Errorf("entries = %d, want 5", n)
		}
	},
	"time-window-end-exclusive": func(t *testing.T, r *QueryResponse) {
		if len(r.Data.Streams) != 1 || len(r.Data.Streams[0].Entries) != 1 {
			t.Fatalf("want exactly one entry, got %+v", r.Data.Streams)
		}
		if got := r.Data.Streams[0].Entries[0].Time; got != 1795687500000000000 {
			t.Errorf("time = %d", got)
		}
	},
	"frequency-by-source": func(t *testing.T, r *QueryResponse) {
		if len(r.Data.Matrix) != 3 {
			t.Fatalf("series = %d, want 3", len(r.Data.Matrix))
		}
		cmd := seriesBy(r.Data.Matrix, "source", "cmd")
		if cmd == nil {
			t.Fatal(`no series with source="cmd"`)
		}
		if want := (Point{Time: 1795687260000, Value: 11}); cmd.Values[0] != want {
			t.Errorf("first cmd point = %+v, want %+v", cmd.Values[0], want)
		}
		if len(cmd.Values) != 6 {
			t.Errorf("cmd points = %d, want 6", len(cmd.Values))
		}
	},
	"rate": func(t *testing.T, r *QueryResponse) {
		if len(r.Data.Matrix) != 1 || len(r.Data.Matrix[0].Metric) != 0 {
			t.Fatalf("want one series without labels, got %+v", r.Data.Matrix)
		}
		if want := (Point{Time: 1795687500000, Value: 0.09333333333333334}); r.Data.Matrix[0].Values[0] != want {
			t.Errorf("first point = %+v, want %+v", r.Data.Matrix[0].Values[0], want)
		}
	},
	"health-vector": func(t *testing.T, r *QueryResponse) {
		if len(r.Data.Vector) != 1 {
			t.Fatalf("samples = %d, want 1", len(r.Data.Vector))
		}
		if want := (Point{Time: 1795688100000, Value: 2}); r.Data.Vector[0].Value != want {
			t.Errorf("value = %+v, want %+v", r.Data.Vector[0].Value, want)
		}
	},
	"count-by-source-instant": func(t *testing.T, r *QueryResponse) {
		want := map[string]float64{"cmd": 60, "kube_exec": 1, "net": 34}
		got := map[string]float64{}
		for _, s := range r.Data.Vector {
			got[s.Metric["source"]] = s.Value.Value
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("counts = %v, want %v", got, want)
		}
	},
	"groups-by-structured-metadata-pod": func(t *testing.T, r *QueryResponse) {
		for _, s := range r.Data.Vector {
			if s.Metric["pod"] == "woocommerce-6877958-x2b4q" && s.Value.Value == 31 {
				return
			}
		}
		t.Errorf("no woocommerce-6877958-x2b4q sample of 31: %+v", r.Data.Vector)
	},
	"volume": func(t *testing.T, r *QueryResponse) {
		if r.Data.ResultType != ResultTypeVector || len(r.Data.Vector) != 2 {
			t.Fatalf("data = %+v", r.Data)
		}
		if s := r.Data.Vector[0]; s.Metric["namespace"] != "shop" || s.Value.Value != 22188 {
			t.Errorf("first sample = %+v", s)
		}
	},
}

var listFacts = map[string][]string{
	"labels":                  {"cluster", "host", "job", "namespace", "service_name", "source", "workload"},
	"label-values-namespace":  {"kube-system", "shop"},
	"label-values-with-query": {"mysql", "woocommerce"},
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

func seriesBy(m []Series, label, value string) *Series {
	for i := range m {
		if m[i].Metric[label] == value {
			return &m[i]
		}
	}
	return nil
}

// TestDecodeFixtures decodes every recorded answer with the decoder of its
// endpoint and checks structural invariants and concrete facts.
func TestDecodeFixtures(t *testing.T) {
	checked := map[string]bool{}
	for _, fc := range loadCases(t) {
		t.Run(fc.Name, func(t *testing.T) {
			if fc.Response.Status != 200 {
				text := fc.errorText(t)
				if got := errorMessage([]byte(text + "\n")); got != text {
					t.Errorf("errorMessage = %q, want %q", got, text)
				}
				checked[fc.Name] = true
				return
			}
			switch kind := kindOf(fc.Request.Path); kind {
			case kindQueryRange, kindQuery, kindVolume:
				r, err := decodeQueryResponse(fc.Response.Body)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				checkQueryInvariants(t, &fc, r)
				if check := queryFacts[fc.Name]; check != nil {
					check(t, r)
					checked[fc.Name] = true
				}
			case kindLabels, kindLabelValues:
				got, err := decodeData[[]string](fc.Response.Body)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if want := listFacts[fc.Name]; !slices.Equal(got, want) {
					t.Errorf("values = %q, want %q", got, want)
				}
				checked[fc.Name] = true
			case kindSeries:
				got, err := decodeData[[]map[string]string](fc.Response.Body)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if len(got) != 1 || got[0]["source"] != "kube_exec" || got[0]["namespace"] != "shop" {
					t.Errorf("series = %v", got)
				}
				checked[fc.Name] = true
			case kindBuildInfo:
				// Not a client call; decode it only to be sure it is JSON.
				var info struct {
					Version string `json:"version"`
				}
				if err := json.Unmarshal(fc.Response.Body, &info); err != nil || info.Version != "v3.7.6" {
					t.Errorf("buildinfo version = %q, %v", info.Version, err)
				}
			default:
				t.Fatalf("fixture path %q has no decoder", fc.Request.Path)
			}
		})
	}
	for name := range queryFacts {
		if !checked[name] {
			t.Errorf("fact about %q not checked: case missing from fixtures?", name)
		}
	}
	for name := range listFacts {
		if !checked[name] {
			t.Errorf("fact about %q not checked: case missing from fixtures?", name)
		}
	}
}

// checkQueryInvariants compares the decoded answer with a generic decoding
// and checks the form the request asked for.
func checkQueryInvariants(t *testing.T, fc *fixtureCase, r *QueryResponse) {
	t.Helper()
	var generic struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string            `json:"resultType"`
			Result     []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(fc.Response.Body, &generic); err != nil {
		t.Fatalf("generic decode: %v", err)
	}
	if r.Status != "success" || string(r.Data.ResultType) != generic.Data.ResultType {
		t.Fatalf("status/resultType = %q/%q, want success/%q", r.Status, r.Data.ResultType, generic.Data.ResultType)
	}
	var n int
	switch r.Data.ResultType {
	case ResultTypeStreams:
		n = len(r.Data.Streams)
		if r.Data.Categorized() != fc.categorized() {
			t.Errorf("categorized = %v, want %v (flags %q)", r.Data.Categorized(), fc.categorized(), r.Data.EncodingFlags)
		}
		for _, s := range r.Data.Streams {
			if len(s.Entries) == 0 {
				t.Errorf("stream %v has no entries", s.Labels)
			}
			for i, e := range s.Entries {
				if fc.categorized() != (len(e.StructuredMetadata) > 0) {
					t.Errorf("entry %d: structured metadata %v in categorized=%v answer", e.Time, e.StructuredMetadata, fc.categorized())
				}
				if i == 0 {
					continue
				}
				prev := s.Entries[i-1].Time
				if fc.param("direction") == string(Forward) && e.Time < prev ||
					fc.param("direction") != string(Forward) && e.Time > prev {
					t.Errorf("entries out of %q order: %d after %d", fc.param("direction"), e.Time, prev)
				}
			}
		}
	case ResultTypeMatrix:
		n = len(r.Data.Matrix)
		for _, s := range r.Data.Matrix {
			for _, p := range s.Values {
				if p.Time%1000 != 0 || math.IsNaN(p.Value) {
					t.Errorf("unexpected point %+v", p)
				}
			}
		}
	case ResultTypeVector:
		n = len(r.Data.Vector)
	}
	if n != len(generic.Data.Result) {
		t.Errorf("decoded %d results, body has %d", n, len(generic.Data.Result))
	}
}

func TestParseSecondsAsMillis(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
		err  bool
	}{
		{name: "whole", in: "1795687260", want: 1795687260000},
		{name: "half", in: "1795687260.5", want: 1795687260500},
		{name: "millis", in: "1795687260.123", want: 1795687260123},
		{name: "leading zero fraction", in: "1795687260.005", want: 1795687260005},
		{name: "finer digits truncated", in: "1795687260.1239", want: 1795687260123},
		{name: "zero", in: "0", want: 0},
		{name: "negative", in: "-1.5", want: -1500},
		{name: "negative below one", in: "-0.25", want: -250},
		{name: "exponent", in: "1.7956872605e9", want: 1795687260500},
		{name: "string", in: `"1795687260"`, err: true},
		{name: "empty fraction", in: "1.", err: true},
		{name: "garbage fraction", in: "1.2x", err: true},
		{name: "overflow", in: "9223372036854776", err: true},
		{name: "overflow with fraction", in: "9223372036854775.808", err: true},
		{name: "largest", in: "9223372036854775.807", want: math.MaxInt64},
		{name: "smallest", in: "-9223372036854775.808", want: math.MinInt64},
		{name: "exponent overflow", in: "1e300", err: true},
		{name: "empty", in: "", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSecondsAsMillis(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if !tt.err && got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want QueryData
	}{
		{
			name: "point special values",
			in:   `{"resultType":"matrix","result":[{"metric":{},"values":[[1,"NaN"],[2,"+Inf"],[3,"-Inf"],[4.25,"-0.5"]]}]}`,
			want: QueryData{ResultType: ResultTypeMatrix, Matrix: []Series{{Metric: map[string]string{}, Values: []Point{
				{1000, math.NaN()}, {2000, math.Inf(1)}, {3000, math.Inf(-1)}, {4250, -0.5},
			}}}},
		},
		{
			name: "scalar",
			in:   `{"resultType":"scalar","result":[1795688100.5,"2"]}`,
			want: QueryData{ResultType: ResultTypeScalar, Scalar: &Point{1795688100500, 2}},
		},
		{
			name: "entry with parsed only",
			in:   `{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{"a":"b"},"values":[["5","x",{"parsed":{"k":"v"}}],["4","y",{}]]}]}`,
			want: QueryData{ResultType: ResultTypeStreams, EncodingFlags: []string{EncodingFlagCategorizeLabels}, Streams: []Stream{{
				Labels:  map[string]string{"a": "b"},
				Entries: []Entry{{Time: 5, Line: "x", Parsed: map[string]string{"k": "v"}}, {Time: 4, Line: "y"}},
			}}},
		},
		{
			name: "null and empty results",
			in:   `{"resultType":"streams","result":null,"stats":{"summary":{}}}`,
			want: QueryData{ResultType: ResultTypeStreams, Stats: json.RawMessage(`{"summary":{}}`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got QueryData
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			// NaN != NaN: compare the marshalled forms instead.
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(tt.want)
			if string(g) != string(w) {
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{name: "not json", body: `nope`, wantErr: "decode response"},
		{name: "missing status", body: `{"data":{"resultType":"vector","result":[]}}`, wantErr: "missing status"},
		{name: "missing data", body: `{"status":"success"}`, wantErr: "missing data"},
		{name: "error status", body: `{"status":"error","errorType":"bad_data","error":"boom"}`, wantErr: `status "error" (bad_data): boom`},
		{name: "error status with bad data", body: `{"status":"error","data":{"resultType":"nope"},"error":"boom"}`, wantErr: "boom"},
		{name: "unknown result type", body: `{"status":"success","data":{"resultType":"table","result":[]}}`, wantErr: `unknown resultType "table"`},
		{name: "missing result type", body: `{"status":"success","data":{"result":[]}}`, wantErr: "missing resultType"},
		{name: "entry of one element", body: `{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[["1"]]}]}}`, wantErr: "want 2 or 3 elements"},
		{name: "entry numeric timestamp", body: `{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[[1,"x"]]}]}}`, wantErr: "decode entry timestamp"},
		{name: "entry bad timestamp", body: `{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[["1.5","x"]]}]}}`, wantErr: "decode entry timestamp"},
		{name: "entry line not string", body: `{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[["1",2]]}]}}`, wantErr: "decode entry line"},
		{name: "entry labels not object", body: `{"status":"success","data":{"resultType":"streams","result":[{"stream":{},"values":[["1","x",[]]]}]}}`, wantErr: "decode entry labels"},
		{name: "point value not string", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}`, wantErr: "decode point value"},
		{name: "point value not number", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}`, wantErr: "decode point value"},
		{name: "point time string", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["1","2"]}]}}`, wantErr: "decode point timestamp"},
		{name: "point of three", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2",3]}]}}`, wantErr: "want 2 elements"},
		{name: "labels not strings", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"2"]}]}}`, wantErr: "decode vector result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeQueryResponse([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
