package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/activityaudit/activityaudit/plugin/internal/falcoapi"
)

// soPath is the plugin built for this test binary.
var soPath string

// TestMain builds libactivityaudit.so once for the whole test binary (a cgo
// c-shared build takes a while), keeps it loaded, and removes it at the end.
// A child process started by a test (childEnv) skips the build.
func TestMain(m *testing.M) {
	if so := os.Getenv(childSO); so != "" {
		soPath = so
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "activityaudit-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	soPath = filepath.Join(dir, "libactivityaudit.so")
	code := func() int {
		if err := buildPlugin(soPath); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Keep one handle open: loaders that unload their copy leave the
		// library (and its Go runtime) in place.
		if _, err := falcoapi.Load(soPath); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildPlugin builds the plugin as its README says.
func buildPlugin(out string) error {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-o", out, "github.com/activityaudit/activityaudit/plugin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build plugin: %w\n%s", err, b)
	}
	return nil
}
