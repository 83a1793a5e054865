//go:build mage

// Activity Audit's build: `go tool mage -l` lists the targets.
package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"
)

// Default is what `go tool mage` runs.
var Default = Build

// Generate regenerates the committed generated code and docs from their sources.
func Generate() error {
	return sh.RunV("go", "generate", "./...")
}

// generatedFiles are the files `mage generate` writes.
func generatedFiles() ([]string, error) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		generated := strings.HasSuffix(path, "_gen.go") || path == filepath.Join("docs", "fields.md") ||
			strings.HasSuffix(path, "_bpfel.go") || strings.HasSuffix(path, "_bpfel.o")
		if generated {
			files = append(files, path)
		}
		return nil
	})
	return files, err
}

// CheckGenerated fails when generated files are not what `mage generate` writes.
func CheckGenerated() error {
	files, err := generatedFiles()
	if err != nil {
		return fmt.Errorf("list generated files: %w", err)
	}
	before := map[string][]byte{}
	for _, f := range files {
		if before[f], err = os.ReadFile(f); err != nil {
			return fmt.Errorf("read generated file: %w", err)
		}
	}
	if err := Generate(); err != nil {
		return err
	}
	var stale []string
	for _, f := range files {
		after, err := os.ReadFile(f)
		if err != nil || !bytes.Equal(after, before[f]) {
			stale = append(stale, f)
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("generated files were out of date (now regenerated; commit them): %s", strings.Join(stale, ", "))
	}
	return nil
}

// Build builds the collector into bin/.
func Build() error {
	return sh.RunV("go", "build", "-o", "bin/collector", "./collector")
}

// goPackages lists the module's packages, leaving out what npm installs
// (some npm packages carry Go code).
func goPackages() ([]string, error) {
	out, err := sh.Output("go", "list", "./...")
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for _, p := range strings.Fields(out) {
		if !strings.Contains(p, "/node_modules/") {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, nil
}

// goFiles lists the Go files under the repository, node_modules left out.
func goFiles() ([]string, error) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git"):
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(path, ".go"):
			files = append(files, path)
		}
		return nil
	})
	return files, err
}

// Vet runs go vet and checks formatting.
func Vet() error {
	pkgs, err := goPackages()
	if err != nil {
		return err
	}
	if err := sh.RunV("go", append([]string{"vet"}, pkgs...)...); err != nil {
		return err
	}
	files, err := goFiles()
	if err != nil {
		return err
	}
	out, err := sh.Output("gofmt", append([]string{"-l"}, files...)...)
	if err != nil {
		return err
	}
	if out != "" {
		return fmt.Errorf("gofmt would change:\n%s", out)
	}
	return nil
}

// Test runs every check and test: generated code, vet, the Go tests (race
// detector on), the LogQL grammar check and the Grafana app's frontend
// (type check, unit tests, build, browser tests).
func Test() {
	mg.SerialDeps(CheckGenerated, Vet, GoTest, LogQLGrammar, Frontend)
}

// Frontend installs the Grafana app's npm packages (from the lock file),
// type-checks, runs the unit tests, builds dist/module.js and runs the
// browser tests (Debian chromium driven by playwright-core) against the
// real backend.
func Frontend() error {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("CHROMIUM") == "" {
		return fmt.Errorf("the browser tests need chromium: apt-get install -y chromium (or set CHROMIUM)")
	}
	if err := sh.RunV("npm", "--prefix", "grafana-app", "ci", "--no-audit", "--no-fund"); err != nil {
		return err
	}
	return sh.RunV("npm", "--prefix", "grafana-app", "test")
}

// GoTest runs the Go tests with the race detector. Packages that load eBPF
// programs or run containers need root; they run one at a time (-p 1 for
// those), after the others.
func GoTest() error {
	if err := mountKernelFS(); err != nil {
		return err
	}
	pkgs, err := goPackages()
	if err != nil {
		return err
	}
	// The packages that watch the whole machine's activity through eBPF
	// run alone, after the others: other tests' processes and connections
	// would be part of what they watch (a test that waits for a quiet ring
	// buffer would wait for ever).
	var kernelPkgs, others []string
	for _, p := range pkgs {
		switch strings.TrimPrefix(p, "github.com/activityaudit/activityaudit/") {
		case "collector/kernel", "collector/pipeline", "collector/agent":
			kernelPkgs = append(kernelPkgs, p)
		default:
			others = append(others, p)
		}
	}
	if err := sh.RunV("go", append([]string{"test", "-race", "-count=1"}, others...)...); err != nil {
		return err
	}
	return sh.RunV("go", append([]string{"test", "-race", "-count=1", "-p", "1"}, kernelPkgs...)...)
}

// mountKernelFS mounts tracefs and debugfs when missing (as root): eBPF
// tracepoints need them and a fresh machine has neither.
func mountKernelFS() error {
	if os.Geteuid() != 0 {
		return nil
	}
	for _, m := range []struct{ fs, dir string }{{"tracefs", "/sys/kernel/tracing"}, {"debugfs", "/sys/kernel/debug"}} {
		if err := sh.Run("mountpoint", "-q", m.dir); err == nil {
			continue
		}
		if err := sh.Run("mount", "-t", m.fs, m.fs, m.dir); err != nil {
			return fmt.Errorf("mount %s: %w", m.fs, err)
		}
	}
	return nil
}

// LogQLGrammar parses every golden LogQL query, and the queries recorded from
// the real Loki, with Grafana's own LogQL grammar (@grafana/lezer-logql).
func LogQLGrammar() error {
	dir := filepath.Join("tools", "logqlcheck")
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		if err := sh.RunV("npm", "ci", "--prefix", dir, "--no-audit", "--no-fund"); err != nil {
			return err
		}
	}
	if err := sh.RunV("npm", "test", "--prefix", dir); err != nil {
		return err
	}
	return sh.RunV("node", filepath.Join(dir, "check.mjs"), filepath.Join("pkg", "logql", "testdata", "golden"),
		"--cases", filepath.Join("testdata", "loki", "cases.json"))
}

// Fuzz runs every fuzz target for FUZZTIME (default 60s) each.
func Fuzz() error {
	fuzztime := os.Getenv("FUZZTIME")
	if fuzztime == "" {
		fuzztime = "60s"
	}
	targets := []struct{ pkg, name string }{
		{"./pkg/filter", "FuzzParse"},
		{"./pkg/logql", "FuzzValueNeverChangesShape"},
		{"./pkg/record", "FuzzDecode"},
		{"./pkg/record", "FuzzStringField"},
		{"./pkg/loki", "FuzzDecodeQueryResponse"},
		{"./pkg/store/syntax", "FuzzParse"},
		{"./pkg/store/push", "FuzzDecodeJSON"},
		{"./pkg/store/push", "FuzzDecodeProtobuf"},
		{"./collector/redact", "FuzzRedact"},
		{"./collector/spool", "FuzzOpen"},
		{"./collector/ship", "FuzzParseEntry"},
		{"./collector/kubeaudit", "FuzzDecode"},
		{"./plugin/activityaudit", "FuzzParseConfig"},
		{"./plugin/activityaudit", "FuzzParseCursor"},
		{"./plugin/activityaudit", "FuzzPayload"},
	}
	for _, t := range targets {
		if err := sh.RunV("go", "test", t.pkg, "-run", "^$", "-fuzz", "^"+t.name+"$", "-fuzztime", fuzztime, "-fuzzminimizetime", "1s"); err != nil {
			return err
		}
	}
	return nil
}

// Bench runs the Go benchmarks.
func Bench() error {
	return sh.RunV("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "./pkg/...", "./plugin/activityaudit")
}

// Plugin builds the Falco plugin into bin/libactivityaudit.so (cgo: needs gcc).
func Plugin() error {
	return sh.RunWithV(map[string]string{"CGO_ENABLED": "1"}, "go", "build", "-buildmode=c-shared", "-o", "bin/libactivityaudit.so", "./plugin")
}

// PluginDocs rewrites plugin/README.md's field table from the built plugin.
func PluginDocs() error {
	return sh.RunV("go", "test", "./plugin/e2e", "-run", "^TestReadmeFieldTable$", "-update", "-count=1")
}

// GrafanaBackend builds the Grafana app's backend, gpx_activityaudit, for
// every platform into grafana-app/dist/ (the Grafana SDK's build targets).
func GrafanaBackend() error {
	return sh.RunV("go", "tool", "mage", "-d", "grafana-app")
}
