// Package e2e runs the app's frontend in a real browser (Debian chromium,
// driven by playwright-core from browser.test.mjs) against the real
// backend: the embedded store seeded with testdata/loki/dataset.json and
// Falcosidekick's recorded alerts, the devserver's Grafana plugin API and
// the harness page around the built dist/module.js.
//
//	npm --prefix grafana-app ci && npm --prefix grafana-app run build
//	ACTIVITYAUDIT_E2E=1 go test ./grafana-app/e2e -count=1 -v
//
// Screenshots land in grafana-app/test-results/.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/grafana-app/harness"
	"github.com/activityaudit/activityaudit/grafana-app/pkg/devserver"
	"github.com/activityaudit/activityaudit/pkg/store/storetest"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

var (
	appDir      = filepath.Join("..")
	datasetPath = filepath.Join("..", "..", "testdata", "loki", "dataset.json")
	sidekickDir = filepath.Join("..", "..", "testdata", "falcosidekick")
)

func TestBrowser(t *testing.T) {
	if os.Getenv("ACTIVITYAUDIT_E2E") == "" {
		t.Skip("set ACTIVITYAUDIT_E2E=1 (after npm ci and npm run build in grafana-app) to run the browser tests")
	}
	for _, f := range []string{"dist/module.js", "harness/build/harness.js", "node_modules/playwright-core/package.json"} {
		if _, err := os.Stat(filepath.Join(appDir, f)); err != nil {
			t.Fatalf("%s is missing: run npm ci and npm run build in grafana-app first", f)
		}
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no chromium at %s (apt-get install -y chromium, or set CHROMIUM)", chromium)
	}

	base := startHarness(t, "127.0.0.1:0")
	t.Logf("harness at %s", base)

	results, err := filepath.Abs(filepath.Join(appDir, "test-results"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(results, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "--test-concurrency=1", "e2e/browser.test.mjs")
	cmd.Dir = appDir
	cmd.Env = append(os.Environ(), "BASE_URL="+base, "CHROMIUM="+chromium, "RESULTS_DIR="+results)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("browser tests failed (exit %d); screenshots in %s", ee.ExitCode(), results)
		}
		t.Fatal(err)
	}
}

func pushFile(t *testing.T, base, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	storetest.PushJSON(t, base, b)
}

// TestServe serves the seeded harness for a person to look at, until the
// test times out or is interrupted:
//
//	ACTIVITYAUDIT_SERVE=127.0.0.1:3301 go test ./grafana-app/e2e -run TestServe -timeout 0 -v
//	open http://127.0.0.1:3301/a/activityaudit-app/audit?from=1795687200000&to=1795688400000
func TestServe(t *testing.T) {
	addr := os.Getenv("ACTIVITYAUDIT_SERVE")
	if addr == "" {
		t.Skip("set ACTIVITYAUDIT_SERVE=host:port to serve the seeded harness")
	}
	base := startHarness(t, addr)
	t.Logf("serving %s/a/activityaudit-app/audit?from=1795687200000&to=1795688400000", base)
	select {}
}

// startHarness runs the embedded store seeded with the fixtures, the
// devserver's plugin API over it and the harness page, on addr.
func startHarness(t *testing.T, addr string) string {
	t.Helper()
	lokiURL := storetest.Start(t, nil)
	pushFile(t, lokiURL, datasetPath)
	storetest.PushSidekick(t, lokiURL, filepath.Join(sidekickDir, "loki-json.json"))

	jsonData, err := json.Marshal(map[string]string{"lokiUrl": lokiURL})
	if err != nil {
		t.Fatal(err)
	}
	dev := devserver.New(devserver.Config{
		Settings: backend.AppInstanceSettings{JSONData: jsonData},
		User:     &backend.User{Login: "e2e", Name: "E2E", Role: "Editor"},
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: harness.Handler(dev.Handler(), appDir), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()

}
