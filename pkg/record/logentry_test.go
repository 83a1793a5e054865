package record

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/jsonscan"
	"github.com/activityaudit/activityaudit/pkg/loki"
)

// TestDecodeLogEntryEveryRecordedAnswer reads every recorded streams answer
// through loki.Client.QueryLogs and DecodeLogEntry, and through QueryRange
// and Decode: the records must be the same, in the same order.
func TestDecodeLogEntryEveryRecordedAnswer(t *testing.T) {
	cases := readLokiCases(t)
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()
	c, err := loki.New(loki.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, lc := range cases {
		if lc.Response.Status != 200 || lc.Request.Path != "/loki/api/v1/query_range" {
			continue
		}
		body = lc.Response.Body
		q := loki.RangeQuery{Query: "{}"}
		resp, err := c.QueryRange(t.Context(), q)
		if err != nil || resp.Data.ResultType != loki.ResultTypeStreams {
			continue
		}
		logs, err := c.QueryLogs(t.Context(), q)
		if err != nil {
			t.Fatalf("%s: %v", lc.Name, err)
		}
		var want []Record
		for _, st := range resp.Data.Streams {
			for _, e := range st.Entries {
				r, err := Decode(e.Time, st.Labels, e.StructuredMetadata, e.Line)
				if err != nil {
					t.Fatalf("%s: %v", lc.Name, err)
				}
				want = append(want, r)
			}
		}
		if len(logs.Entries) != len(want) {
			t.Fatalf("%s: %d entries, want %d", lc.Name, len(logs.Entries), len(want))
		}
		for i := range want {
			var got Record
			if err := DecodeLogEntry(&logs.Entries[i], &got); err != nil {
				t.Fatalf("%s: entry %d: %v", lc.Name, i, err)
			}
			if got != want[i] {
				t.Errorf("%s: record %d\n got %+v\nwant %+v", lc.Name, i, got, want[i])
			}
		}
		n++
	}
	if n < 15 {
		t.Fatalf("compared %d stream answers, want every one of cases.json (at least 15)", n)
	}
}

func TestDecodeLogEntryResetsAndFails(t *testing.T) {
	r := sampleCmd()
	e := loki.LogEntry{Time: 5, Quoted: `{\"comm\":\"sh\"}`, Stream: []loki.Label{{Name: "source", Value: "net"}, {Name: "service_name", Value: "x"}},
		Metadata: []loki.Label{{Name: "pod", Value: "p"}}, Parsed: []loki.Label{{Name: "comm", Value: "parsed"}}}
	if err := DecodeLogEntry(&e, &r); err != nil {
		t.Fatal(err)
	}
	if want := (Record{Time: 5, Source: field.Net, Pod: "p", Comm: "sh"}); r != want {
		t.Errorf("got %+v, want %+v", r, want)
	}
	for _, q := range []string{`{\"pid\":\"x\"}`, `{\"cwd\":\"\\\"\",\"pid\":\"x\"}`, `{\"pid\":1`} {
		e.Quoted = q
		if err := DecodeLogEntry(&e, &r); err == nil || !strings.HasPrefix(err.Error(), "decode record body: ") {
			t.Errorf("%s: err = %v", q, err)
		}
	}
}

// appendTextsSlow is AppendTexts by the registry and Text.
func appendTextsSlow(b []byte, r *Record) []byte {
	for _, f := range field.All() {
		if f.Role == field.Timestamp {
			continue
		}
		v, _ := r.Text(f.Name)
		if v == "" {
			continue
		}
		b = append(b, ',')
		b = jsonscan.AppendString(b, f.Name)
		b = append(b, ':')
		b = jsonscan.AppendString(b, v)
	}
	return b
}

func TestAppendTexts(t *testing.T) {
	odd := sampleNet()
	odd.Cmdline, odd.Comm, odd.Probe, odd.UID, odd.Source = "a\"\\\n\u2028\xff", "<&>", true, 0, "other"
	for _, r := range []Record{sampleCmd(), sampleNet(), sampleKubeExec(), {}, odd} {
		if got, want := string(r.AppendTexts(nil)), string(appendTextsSlow(nil, &r)); got != want {
			t.Errorf("AppendTexts\n got %s\nwant %s", got, want)
		}
	}
}
