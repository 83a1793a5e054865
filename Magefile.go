//go:build mage

// Activity Audit's build: `go tool mage -l` lists the targets.
package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"

	"github.com/activityaudit/activityaudit/internal/release"
)

// Default is what `go tool mage` runs.
var Default = Build

// Generate regenerates the committed generated code and docs from their
// sources, and the README's field table from docs/fields.md.
func Generate() error {
	if err := sh.RunV("go", "generate", "./..."); err != nil {
		return err
	}
	return readmeFieldTable()
}

// The README's copy of the field table sits between these markers.
const (
	fieldsBegin = "<!-- fields:begin: generated from docs/fields.md by `go tool mage generate`; do not edit -->"
	fieldsEnd   = "<!-- fields:end -->"
)

// readmeFieldTable copies docs/fields.md's table (generated from the
// registry in pkg/field) into README.md between the markers.
func readmeFieldTable() error {
	doc, err := os.ReadFile(filepath.Join("docs", "fields.md"))
	if err != nil {
		return err
	}
	var table []string
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "|") {
			table = append(table, line)
		} else if len(table) > 0 {
			break
		}
	}
	if len(table) == 0 {
		return fmt.Errorf("docs/fields.md has no table")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	before, rest, ok1 := strings.Cut(string(readme), fieldsBegin)
	_, after, ok2 := strings.Cut(rest, fieldsEnd)
	if !ok1 || !ok2 {
		return fmt.Errorf("README.md lacks the field table markers %s ... %s", fieldsBegin, fieldsEnd)
	}
	out := before + fieldsBegin + "\n\n" + strings.Join(table, "\n") + "\n\n" + fieldsEnd + after
	if out == string(readme) {
		return nil
	}
	return os.WriteFile("README.md", []byte(out), 0o644)
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
		generated := strings.HasSuffix(path, "_gen.go") || path == filepath.Join("docs", "fields.md") || path == "README.md" ||
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

// Build builds every part: the collector and the Falco plugin into bin/,
// the Grafana app's backend (every platform) and frontend into
// grafana-app/dist/.
func Build() {
	mg.SerialDeps(Collector, Plugin, GrafanaBackend, buildFrontend)
}

// Collector builds the collector into bin/.
func Collector() error {
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
	if err := needChromium(); err != nil {
		return err
	}
	if err := npmCI(appDir, true); err != nil {
		return err
	}
	return sh.RunV("npm", "--prefix", appDir, "test")
}

// appDir is the Grafana app's directory: its npm package, its backend's
// Magefile and, once built, dist/.
const appDir = "grafana-app"

// needChromium fails early, with the fix, where the browser tests cannot run.
func needChromium() error {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("CHROMIUM") == "" {
		return fmt.Errorf("the browser tests need chromium: apt-get install -y chromium (or set CHROMIUM)")
	}
	return nil
}

// npmCI installs an npm package's dependencies from its lock file: always,
// or only when node_modules is missing.
func npmCI(dir string, always bool) error {
	if !always {
		if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
			return nil
		}
	}
	return sh.RunV("npm", "--prefix", dir, "ci", "--no-audit", "--no-fund")
}

// buildFrontend builds the Grafana app's frontend into grafana-app/dist
// (module.js, plugin.json with the version filled in, img/, README) and the
// browser tests' harness.
func buildFrontend() error {
	if err := npmCI(appDir, false); err != nil {
		return err
	}
	return sh.RunV("npm", "--prefix", appDir, "run", "build")
}

// kernelPackages watch the whole machine's activity through eBPF: they run
// alone, one at a time, after the other packages, whose processes and
// connections would otherwise be part of what they watch (a test that
// waits for a quiet ring buffer would wait for ever).
var kernelPackages = []string{"collector/kernel", "collector/pipeline", "collector/agent"}

// e2eTests are the Go end-to-end tests, the ones that use real parts: the
// kernel's eBPF capture, runc containers, collector and store processes
// started, killed and restarted, the Falco plugin built as a c-shared
// library and driven through Falco's plugin API (cgo). `mage test` runs
// them among all the others; `mage e2e` runs only these, then the browser
// tests.
var e2eTests = []struct{ pkg, run string }{
	// kube exec trace (runc container, HTTPS audit webhook), outage with
	// kill -9, a captured command listed by `collector query`
	{"collector/agent", ""},
	{"collector/pipeline", "^TestCaptureContainer$"},
	{"collector/proctable", "^TestRealContainer$"},
	// libactivityaudit.so: loader, init, reading, extraction, rules
	{"plugin/e2e", ""},
}

// goTest runs go test with the race detector on the packages (import paths
// or ./dirs), after the other arguments (flags).
func goTest(args []string, pkgs ...string) error {
	return sh.RunV("go", append(append([]string{"test", "-race", "-count=1"}, args...), pkgs...)...)
}

// GoTest runs the Go tests with the race detector. Packages that load eBPF
// programs or run containers need root; the kernel packages run one at a
// time (-p 1), after the others.
func GoTest() error {
	if err := mountKernelFS(); err != nil {
		return err
	}
	pkgs, err := goPackages()
	if err != nil {
		return err
	}
	var kernelPkgs, others []string
	for _, p := range pkgs {
		if slices.Contains(kernelPackages, strings.TrimPrefix(p, module+"/")) {
			kernelPkgs = append(kernelPkgs, p)
		} else {
			others = append(others, p)
		}
	}
	if err := goTest(nil, others...); err != nil {
		return err
	}
	return goTest([]string{"-p", "1"}, kernelPkgs...)
}

// E2e runs the end-to-end tests only: capture, containers, collector
// processes, the Falco plugin through cgo, the app in a browser. First the
// Go ones (e2eTests; as root, one package at a time, race detector on, as
// `mage test` runs them), then the Grafana app's browser tests against the
// real backend, after building the frontend.
func E2e() error {
	// Without root or runc these tests skip, and a run that skips them
	// says nothing.
	if os.Geteuid() != 0 {
		return fmt.Errorf("the end-to-end tests need root (eBPF capture, runc containers): sudo go tool mage e2e")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return fmt.Errorf("the end-to-end tests need runc: apt-get install -y runc busybox-static")
	}
	if err := needChromium(); err != nil {
		return err
	}
	if err := mountKernelFS(); err != nil {
		return err
	}
	for _, t := range e2eTests {
		args := []string{"-p", "1"}
		if t.run != "" {
			args = append(args, "-run", t.run)
		}
		if err := goTest(args, "./"+t.pkg); err != nil {
			return err
		}
	}
	if err := buildFrontend(); err != nil {
		return err
	}
	return sh.RunV("npm", "--prefix", appDir, "run", "test:e2e")
}

// module is the Go module's path.
const module = "github.com/activityaudit/activityaudit"

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

// LogQLGrammar parses every golden LogQL query, the provisioned
// dashboard's queries and the queries recorded from the real Loki with
// Grafana's own LogQL grammar (@grafana/lezer-logql).
func LogQLGrammar() error {
	dir := filepath.Join("tools", "logqlcheck")
	if err := npmCI(dir, false); err != nil {
		return err
	}
	if err := sh.RunV("npm", "test", "--prefix", dir); err != nil {
		return err
	}
	return sh.RunV("node", filepath.Join(dir, "check.mjs"), filepath.Join("pkg", "logql", "testdata", "golden"),
		filepath.Join("provisioning", "testdata", "logql"), "--cases", filepath.Join("testdata", "loki", "cases.json"))
}

// Fuzz runs every fuzz target for FUZZTIME (default 60s) each.
func Fuzz() error {
	fuzztime := os.Getenv("FUZZTIME")
	if fuzztime == "" {
		fuzztime = "60s"
	}
	targets := []struct{ pkg, name string }{
		{"./pkg/filter", "FuzzParse"},
		{"./pkg/link", "FuzzQueryEscape"},
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
	return sh.RunV("go", "tool", "mage", "-d", appDir)
}

// Release names.
const (
	appID           = "activityaudit-app"
	falcoPluginName = "activityaudit"
	distDir         = "dist"
)

// Package builds the Grafana app plugin zip and the Falco plugin and
// rules tarballs into dist/. Each is built first:
//
//   - activityaudit-app-<version>.zip, the Grafana app plugin as `grafana
//     cli --pluginUrl URL plugins install activityaudit-app` and Grafana's
//     installer take it: one folder, activityaudit-app/, holding the built
//     grafana-app/dist (plugin.json, module.js, img/, README, the backend
//     for every platform with its executable bits); the version is
//     grafana-app/package.json's;
//   - activityaudit-<version>-linux-<arch>.tar.gz, the Falco plugin
//     (libactivityaudit.so alone), and activityaudit-rules-<version>.tar.gz,
//     its rules, as falcosecurity/plugins names and fills them; the version
//     is the plugin's own (plugin/activityaudit.Version), the architecture
//     this machine's (cgo: the plugin is built for the host only).
func Package() error {
	mg.SerialDeps(buildFrontend, GrafanaBackend, Plugin)

	appVersion, err := release.PackageVersion(filepath.Join(appDir, "package.json"))
	if err != nil {
		return err
	}
	zip := filepath.Join(distDir, release.GrafanaZipName(appID, appVersion))
	if err := release.GrafanaPlugin(filepath.Join(appDir, "dist"), zip, appID, appVersion); err != nil {
		return err
	}

	falcoVersion, err := release.GoStringConst(filepath.Join("plugin", "activityaudit", "plugin.go"), "Version")
	if err != nil {
		return err
	}
	name, err := release.FalcoPluginName(falcoPluginName, falcoVersion, runtime.GOARCH)
	if err != nil {
		return err
	}
	plugin := filepath.Join(distDir, name)
	if err := release.FalcoPlugin(filepath.Join("bin", "libactivityaudit.so"), plugin); err != nil {
		return err
	}
	rules, err := filepath.Glob(filepath.Join("plugin", "rules", "*.yaml"))
	if err != nil {
		return err
	}
	rulesTar := filepath.Join(distDir, release.FalcoRulesName(falcoPluginName, falcoVersion))
	if err := release.FalcoRules(rules, rulesTar); err != nil {
		return err
	}
	for _, p := range []string{zip, plugin, rulesTar} {
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		fmt.Printf("%s (%d kB)\n", p, (info.Size()+999)/1000)
	}
	return nil
}
