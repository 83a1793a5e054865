package plugin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/access"
	"github.com/activityaudit/activityaudit/grafana-app/pkg/plugin"
	"github.com/activityaudit/activityaudit/pkg/store"
	"github.com/activityaudit/activityaudit/pkg/store/storetest"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Fixtures: the repository's copies of ../shared/fixtures (see their READMEs).
var (
	datasetPath = filepath.Join("..", "..", "..", "testdata", "loki", "dataset.json")
	sidekickDir = filepath.Join("..", "..", "..", "testdata", "falcosidekick")
)

// Times around dataset.json: its 95 records lie between 10:00:05 and
// 10:05:43 on 2026-11-26 UTC; Falcosidekick's alerts at 10:05 and 15:23.
const (
	at1000 = "1795687200000" // 2026-11-26T10:00:00Z
	at1020 = "1795688400000" // 2026-11-26T10:20:00Z
	at1600 = "1795708800000" // 2026-11-26T16:00:00Z
)

const grafanaURL = "http://grafana.test"

// instance is an app instance made by the factory Grafana calls, over a
// store.
type instance struct {
	app     *plugin.App
	metrics *access.Metrics
	json    map[string]any
}

// newInstance makes the app over lokiURL with jsonData (lokiUrl and
// grafanaUrl are added).
func newInstance(t testing.TB, lokiURL string, jsonData map[string]any) *instance {
	t.Helper()
	if jsonData == nil {
		jsonData = map[string]any{}
	}
	jsonData["lokiUrl"] = lokiURL
	if _, ok := jsonData["grafanaUrl"]; !ok {
		jsonData["grafanaUrl"] = grafanaURL
	}
	raw, err := json.Marshal(jsonData)
	if err != nil {
		t.Fatal(err)
	}
	m := access.NewMetrics(nil)
	inst, err := plugin.NewFactory(m)(context.Background(), backend.AppInstanceSettings{JSONData: raw})
	if err != nil {
		t.Fatal(err)
	}
	return &instance{app: inst.(*plugin.App), metrics: m, json: jsonData}
}

// call sends GET path (with its query) through CallResource as a user of
// role ("" for no user) and returns the status and body.
func (in *instance) call(t testing.TB, role, path string) (int, []byte) {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	pc := backend.PluginContext{OrgID: 1, PluginID: plugin.ID, AppInstanceSettings: &backend.AppInstanceSettings{}}
	if role != "" {
		pc.User = &backend.User{Login: "u", Role: role}
	}
	req := &backend.CallResourceRequest{
		PluginContext: pc,
		Path:          strings.TrimPrefix(u.EscapedPath(), "/"),
		Method:        http.MethodGet,
		URL:           path,
	}
	var status int
	var body []byte
	err = in.app.CallResource(context.Background(), req, backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error {
		if status == 0 {
			status = r.Status
		}
		// A message's body is the sender's to keep: the first is kept
		// as it is, not copied (as the benchmarks' direct queries read
		// the store's answers without keeping them).
		if body == nil {
			body = r.Body
		} else {
			body = append(body, r.Body...)
		}
		return nil
	}))
	if err != nil {
		t.Fatalf("CallResource %s: %v", path, err)
	}
	return status, body
}

// get calls as an Editor and decodes a 200 answer into v.
func (in *instance) get(t testing.TB, path string, v any) []byte {
	t.Helper()
	status, body := in.call(t, "Editor", path)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: decode: %v\n%s", path, err, body)
		}
	}
	return body
}

// pushFile sends a Loki push body (JSON) to a store.
func pushFile(t testing.TB, base, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	storetest.PushJSON(t, base, b)
}

// pushSidekick sends the push bodies Falcosidekick sent in one run
// (loki-text.json or loki-json.json).
func pushSidekick(t testing.TB, base, file string) {
	t.Helper()
	storetest.PushSidekick(t, base, filepath.Join(sidekickDir, file))
}

// stoppableStore runs the embedded store until stop is called.
func stoppableStore(t testing.TB) (base string, stop func()) {
	t.Helper()
	s, err := store.Open(store.Options{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		s.Close()
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

// golden compares got (JSON) with testdata/<name>.json, indented; -update
// rewrites the file.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("golden %s: %v\n%s", name, err, got)
	}
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update to write it)", name, err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(buf.Bytes())) {
		t.Errorf("%s differs from %s (run with -update after checking):\n%s", name, path, buf.Bytes())
	}
}

// q builds a resource path with a query.
func q(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// recorder stands between an instance and the store and records the
// store requests of each call; canned, it also keeps each answer from its
// first request and serves it from memory after.
type recorder struct {
	url     string
	mu      sync.Mutex
	reqs    []*http.Request
	answers map[string][]byte // canned answers by request URI; nil: proxied
}

func newRecorder(tb testing.TB, target string, canned bool) *recorder {
	u, _ := url.Parse(target)
	rec := &recorder{}
	if canned {
		rec.answers = map[string][]byte{}
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.RequestURI()
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.Clone(context.Background()))
		body, ok := rec.answers[key]
		rec.mu.Unlock()
		if rec.answers == nil {
			proxy.ServeHTTP(w, r)
			return
		}
		if !ok {
			resp, err := http.Get(target + key)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				http.Error(w, fmt.Sprintf("%d %v %s", resp.StatusCode, err, body), http.StatusBadGateway)
				return
			}
			rec.mu.Lock()
			rec.answers[key] = body
			rec.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { srv.Close() })
	rec.url = "http://" + ln.Addr().String()
	return rec
}

// requests calls path through in (whose store is rec) and returns the
// store requests the call sent.
func (rec *recorder) requests(tb testing.TB, in *instance, name, path string) []*http.Request {
	rec.mu.Lock()
	rec.reqs = nil
	rec.mu.Unlock()
	if status, body := in.call(tb, "Editor", path); status != 200 {
		tb.Fatalf("%s: %d %s", name, status, body)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.reqs
}
