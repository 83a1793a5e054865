package cli

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe writer for a command's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStoreCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"store", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0"}, IO{Out: io.Discard, Err: &errOut})
	}()
	addr := regexp.MustCompile(`Loki API on (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(errOut.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("store did not start: %s", errOut.String())
	}
	resp, err := http.Get(base + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ready" {
		t.Errorf("/ready: %d %q", resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d after shutdown: %s", code, errOut.String())
	}
}

func TestStoreFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad retention", []string{"store", "--retention=soon"}, "--retention"},
		{"bad size", []string{"store", "--max-disk=lots"}, "--max-disk"},
		{"argument", []string{"store", "x"}, "no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(tt.args...)
			if code != ExitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q", code, errOut)
			}
		})
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "512MiB": 512 << 20, "10GiB": 10 << 30, "1GB": 1e9, "100": 100, "7B": 7} {
		got, err := parseBytes(in)
		if err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1GiB", "1.5GiB", "GiB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) gave no error", in)
		}
	}
}
