package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/collector/cli"
)

// TestCommandIsQueryable: with `collector run` capturing into its embedded
// store, a command run on the machine is listed by `collector query` with
// its full record.
func TestCommandIsQueryable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("kernel capture needs root")
	}
	if _, err := os.Stat("/sys/kernel/tracing/events"); err != nil {
		t.Skip("tracefs is not mounted on /sys/kernel/tracing")
	}
	storeAddr, metricsAddr := freePort(t), freePort(t)
	base := "http://" + storeAddr
	col := start(t, "collector.log", "run", "--data-dir", t.TempDir(), "--listen", storeAddr,
		"--metrics-listen", metricsAddr, "--batch-wait", "200ms", "--cluster", "e2e")
	waitFor(t, "the collector", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + metricsAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})

	marker := "aa-e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	cwd := t.TempDir()
	cmd := exec.Command("/bin/sh", "-c", ": "+marker+"; exit 3")
	cmd.Dir = cwd
	ran := time.Now()
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("command: %v", err)
	}
	pid := cmd.Process.Pid

	var rec map[string]any
	var latency time.Duration
	waitFor(t, "the command in `collector query`", 30*time.Second, func() bool {
		var out, errb bytes.Buffer
		code := cli.Main(context.Background(), []string{"query", `cmdline=~".*` + marker + `.*"`, "--sources", "cmd",
			"--since", "10m", "--json", "--loki-url", base}, cli.IO{Out: &out, Err: &errb})
		if code != cli.ExitOK {
			t.Fatalf("query exit %d: %s", code, errb.String())
		}
		if out.Len() == 0 {
			return false
		}
		latency = time.Since(ran)
		lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
		if len(lines) != 1 {
			t.Fatalf("query returned %d records, want 1:\n%s", len(lines), out.String())
		}
		if err := json.Unmarshal(lines[0], &rec); err != nil {
			t.Fatal(err)
		}
		return true
	})
	t.Logf("listed %s after the command ran", latency.Round(time.Millisecond))
	host, _ := os.Hostname()
	exe, _ := filepath.EvalSymlinks("/bin/sh")
	want := map[string]any{
		"source":  "cmd",
		"cluster": "e2e",
		"host":    host,
		"comm":    "sh",
		"exe":     exe,
		"cmdline": "/bin/sh -c ': " + marker + "; exit 3'",
		"cwd":     cwd,
		"pid":     float64(pid),
		"ppid":    float64(os.Getpid()),
		"uid":     float64(0),
	}
	for k, v := range want {
		if fmt.Sprint(rec[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v (record %v)", k, rec[k], v, rec)
		}
	}
	for _, k := range []string{"time", "exec_id", "parent_exec_id"} {
		if rec[k] == nil || rec[k] == "" {
			t.Errorf("record lacks %s: %v", k, rec)
		}
	}
	col.stop(t)
}
