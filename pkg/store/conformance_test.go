package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// recordedCase is one request made to a real Loki 3.7.6 and its answer
// (testdata/loki/cases.json; the comparison rules are in its README).
type recordedCase struct {
	Name    string `json:"name"`
	Note    string `json:"note"`
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Params  map[string]string `json:"params"`
		Headers map[string]string `json:"headers"`
	} `json:"request"`
	Response struct {
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	} `json:"response"`
}

func loadCases(t testing.TB) []recordedCase {
	raw, err := os.ReadFile("../../testdata/loki/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []recordedCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// newTestStore opens a store in a temporary directory and serves it over
// real HTTP.
func newTestStore(t testing.TB, opts Options) (*Store, *httptest.Server) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		s.Close()
	})
	return s, srv
}

func pushFile(t testing.TB, base, path string) {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/loki/api/v1/push", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("push %s: %d %s", path, resp.StatusCode, msg)
	}
}

func replay(t testing.TB, base string, c recordedCase) (int, []byte) {
	t.Helper()
	q := url.Values{}
	for k, v := range c.Request.Params {
		q.Set(k, v)
	}
	req, err := http.NewRequest(c.Request.Method, base+c.Request.Path+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.Request.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestConformance pushes the dataset recorded into a real Loki, replays every
// request made to it and compares the answers by the fixture's rules.
func TestConformance(t *testing.T) {
	_, srv := newTestStore(t, Options{})
	pushFile(t, srv.URL, "../../testdata/loki/dataset.json")
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			status, body := replay(t, srv.URL, c)
			if status != c.Response.Status {
				t.Fatalf("status %d, want %d (body %s)", status, c.Response.Status, body)
			}
			if status != http.StatusOK {
				var want string
				if err := json.Unmarshal(c.Response.Body, &want); err != nil {
					t.Fatal(err)
				}
				got := strings.TrimSpace(string(body))
				n := min(30, len(want))
				if !strings.HasPrefix(got, want[:n]) {
					t.Errorf("error %q does not name the same problem as Loki's %q", got, want)
				}
				return
			}
			if c.Request.Path == "/loki/api/v1/status/buildinfo" {
				var bi map[string]string
				if err := json.Unmarshal(body, &bi); err != nil || bi["version"] == "" {
					t.Errorf("buildinfo %s: %v", body, err)
				}
				return
			}
			want, got := normalize(t, c.Response.Body), normalize(t, body)
			if want != got {
				t.Errorf("answer differs from the real Loki's\n got %s\nwant %s", got, want)
			}
		})
	}
}

// normalize turns an answer into a canonical string: Loki's own
// service_name and detected_level dropped, streams and series as sorted
// sets, entry order kept, numbers as numbers.
func normalize(t testing.TB, body []byte) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, body)
	}
	top := v.(map[string]any)
	switch data := top["data"].(type) {
	case []any: // labels, label values, series
		var items []string
		for _, it := range data {
			switch it := it.(type) {
			case string:
				if it != "service_name" {
					items = append(items, strconv.Quote(it))
				}
			case map[string]any:
				items = append(items, canonMap(it))
			}
		}
		sort.Strings(items)
		return "[" + strings.Join(items, ",") + "]"
	case map[string]any:
		var items []string
		for _, r := range data["result"].([]any) {
			r := r.(map[string]any)
			switch data["resultType"] {
			case "streams":
				var entries []string
				for _, e := range r["values"].([]any) {
					e := e.([]any)
					s := fmt.Sprint(e[0], " ", e[1])
					if len(e) > 2 {
						extra := e[2].(map[string]any)
						for _, k := range []string{"structuredMetadata", "parsed"} {
							if m, ok := extra[k].(map[string]any); ok && len(canonMap(m)) > 2 {
								s += " " + k + canonMap(m)
							}
						}
					}
					entries = append(entries, s)
				}
				items = append(items, canonMap(r["stream"].(map[string]any))+" "+strings.Join(entries, " | "))
			case "matrix":
				var pts []string
				for _, p := range r["values"].([]any) {
					pts = append(pts, canonPoint(p.([]any)))
				}
				items = append(items, canonMap(r["metric"].(map[string]any))+" "+strings.Join(pts, " "))
			case "vector":
				items = append(items, canonMap(r["metric"].(map[string]any))+" "+canonPoint(r["value"].([]any)))
			}
		}
		sort.Strings(items)
		return fmt.Sprint(data["resultType"], "\n", strings.Join(items, "\n"))
	}
	return string(body)
}

func canonMap(m map[string]any) string {
	var kv []string
	for k, v := range m {
		if k == "service_name" || k == "detected_level" {
			continue
		}
		kv = append(kv, fmt.Sprintf("%s=%q", k, v))
	}
	slices.Sort(kv)
	return "{" + strings.Join(kv, ",") + "}"
}

func canonPoint(p []any) string {
	ts, _ := strconv.ParseFloat(fmt.Sprint(p[0]), 64)
	v, _ := strconv.ParseFloat(fmt.Sprint(p[1]), 64)
	return fmt.Sprintf("%.3f=%s", ts, strconv.FormatFloat(math.Round(v*1e9)/1e9, 'g', -1, 64))
}
