package release

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// write makes a file (and its directories) under dir.
func write(t *testing.T, dir, name, content string, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

const builtPluginJSON = `{
  "type": "app",
  "id": "activityaudit-app",
  "backend": true,
  "executable": "gpx_activityaudit",
  "info": { "version": "1.2.3", "updated": "2026-11-27" }
}`

// distDir is a built Grafana app plugin as the frontend build and
// `mage grafanaBackend` leave it.
func distDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "plugin.json", builtPluginJSON, 0o644)
	write(t, dir, "module.js", "define([], function () {});", 0o644)
	write(t, dir, "README.md", "# Activity Audit", 0o644)
	write(t, dir, "img/logo.svg", "<svg/>", 0o644)
	write(t, dir, "gpx_activityaudit_linux_amd64", "\x7fELF amd64", 0o755)
	write(t, dir, "gpx_activityaudit_linux_arm64", "\x7fELF arm64", 0o755)
	write(t, dir, "gpx_activityaudit_windows_amd64.exe", "MZ", 0o755)
	return dir
}

func byName(files []File) map[string]File {
	m := map[string]File{}
	for _, f := range files {
		m[f.Name] = f
	}
	return m
}

func TestGrafanaPlugin(t *testing.T) {
	dist := distDir(t)
	out := filepath.Join(t.TempDir(), "dist", GrafanaZipName("activityaudit-app", "1.2.3"))
	if err := GrafanaPlugin(dist, out, "activityaudit-app", "1.2.3"); err != nil {
		t.Fatal(err)
	}
	if filepath.Base(out) != "activityaudit-app-1.2.3.zip" {
		t.Errorf("name %s", filepath.Base(out))
	}
	files, err := ReadZip(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		mode fs.FileMode
		data string
	}{
		{"activityaudit-app/", fs.ModeDir | 0o755, ""},
		{"activityaudit-app/README.md", 0o644, "# Activity Audit"},
		{"activityaudit-app/gpx_activityaudit_linux_amd64", 0o755, "\x7fELF amd64"},
		{"activityaudit-app/gpx_activityaudit_linux_arm64", 0o755, "\x7fELF arm64"},
		{"activityaudit-app/gpx_activityaudit_windows_amd64.exe", 0o755, "MZ"},
		{"activityaudit-app/img/", fs.ModeDir | 0o755, ""},
		{"activityaudit-app/img/logo.svg", 0o644, "<svg/>"},
		{"activityaudit-app/module.js", 0o644, "define([], function () {});"},
		{"activityaudit-app/plugin.json", 0o644, builtPluginJSON},
	}
	if len(files) != len(want) {
		t.Fatalf("%d entries, want %d: %v", len(files), len(want), files)
	}
	for i, w := range want {
		f := files[i]
		if f.Name != w.name || f.Mode != w.mode || string(f.Data) != w.data {
			t.Errorf("entry %d: %s %v %q, want %s %v %q", i, f.Name, f.Mode, f.Data, w.name, w.mode, w.data)
		}
	}
	// Grafana's installer (pkg/plugins/storage) replaces the first path
	// element, matched by this expression, with the plugin id, and reads
	// <id>/plugin.json: every entry must sit in the one top folder.
	gitBuild := regexp.MustCompile(`^[a-zA-Z0-9_.-]*/`)
	for _, f := range files {
		if !gitBuild.MatchString(f.Name) || !strings.HasPrefix(f.Name, "activityaudit-app/") {
			t.Errorf("%s is outside the top folder", f.Name)
		}
	}
}

func TestGrafanaPluginRefuses(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, dist string)
		want  string
	}{
		{"another version", func(t *testing.T, dist string) {
			write(t, dist, "plugin.json", strings.Replace(builtPluginJSON, "1.2.3", "1.2.2", 1), 0o644)
		}, `info.version is "1.2.2", want "1.2.3"`},
		{"version not filled in", func(t *testing.T, dist string) {
			write(t, dist, "plugin.json", strings.Replace(builtPluginJSON, "1.2.3", "%VERSION%", 1), 0o644)
		}, `info.version is "%VERSION%"`},
		{"date not filled in", func(t *testing.T, dist string) {
			write(t, dist, "plugin.json", strings.Replace(builtPluginJSON, "2026-11-27", "%TODAY%", 1), 0o644)
		}, "%TODAY% was not filled in"},
		{"another plugin", func(t *testing.T, dist string) {
			write(t, dist, "plugin.json", strings.Replace(builtPluginJSON, `"activityaudit-app"`, `"other-app"`, 1), 0o644)
		}, `id is "other-app"`},
		{"no frontend", func(t *testing.T, dist string) {
			os.Remove(filepath.Join(dist, "module.js"))
		}, "no module.js"},
		{"no plugin.json", func(t *testing.T, dist string) {
			os.Remove(filepath.Join(dist, "plugin.json"))
		}, "plugin.json"},
		{"no backend", func(t *testing.T, dist string) {
			for _, g := range []string{"linux_amd64", "linux_arm64", "windows_amd64.exe"} {
				os.Remove(filepath.Join(dist, "gpx_activityaudit_"+g))
			}
		}, "no backend executable gpx_activityaudit_<os>_<arch>"},
		{"a backend that cannot run", func(t *testing.T, dist string) {
			os.Chmod(filepath.Join(dist, "gpx_activityaudit_linux_arm64"), 0o644)
		}, "gpx_activityaudit_linux_arm64 is not executable"},
		{"a symlink", func(t *testing.T, dist string) {
			if err := os.Symlink("/etc/passwd", filepath.Join(dist, "img", "passwd")); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dist := distDir(t)
			tt.spoil(t, dist)
			outDir := t.TempDir()
			err := GrafanaPlugin(dist, filepath.Join(outDir, "p.zip"), "activityaudit-app", "1.2.3")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if left, _ := os.ReadDir(outDir); len(left) > 0 {
				t.Errorf("left %v behind", left)
			}
		})
	}
}

func TestFalcoPlugin(t *testing.T) {
	src := t.TempDir()
	write(t, src, "libactivityaudit.so", "\x7fELF shared object", 0o755)
	name, err := FalcoPluginName("activityaudit", "0.1.0", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if name != "activityaudit-0.1.0-linux-x86_64.tar.gz" {
		t.Errorf("name %s", name)
	}
	out := filepath.Join(t.TempDir(), name)
	if err := FalcoPlugin(filepath.Join(src, "libactivityaudit.so"), out); err != nil {
		t.Fatal(err)
	}
	files, err := ReadTarGz(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Name != "libactivityaudit.so" || files[0].Mode != 0o755 || string(files[0].Data) != "\x7fELF shared object" {
		t.Fatalf("entries %+v, want libactivityaudit.so alone, 0755", files)
	}
	tarList(t, out, "-rwxr-xr-x", "libactivityaudit.so")
}

func TestFalcoRules(t *testing.T) {
	src := t.TempDir()
	write(t, src, "activityaudit_rules.yaml", "- rule: a\n", 0o644)
	write(t, src, "more_rules.yaml", "- rule: b\n", 0o600)
	out := filepath.Join(t.TempDir(), FalcoRulesName("activityaudit", "0.1.0"))
	if filepath.Base(out) != "activityaudit-rules-0.1.0.tar.gz" {
		t.Errorf("name %s", filepath.Base(out))
	}
	if err := FalcoRules([]string{filepath.Join(src, "activityaudit_rules.yaml"), filepath.Join(src, "more_rules.yaml")}, out); err != nil {
		t.Fatal(err)
	}
	files, err := ReadTarGz(out)
	if err != nil {
		t.Fatal(err)
	}
	got := byName(files)
	if len(files) != 2 || string(got["activityaudit_rules.yaml"].Data) != "- rule: a\n" || got["activityaudit_rules.yaml"].Mode != 0o644 ||
		string(got["more_rules.yaml"].Data) != "- rule: b\n" || got["more_rules.yaml"].Mode != 0o600 {
		t.Fatalf("entries %+v", files)
	}
	tarList(t, out, "-rw-r--r--", "activityaudit_rules.yaml")
	if err := FalcoRules(nil, filepath.Join(t.TempDir(), "none.tar.gz")); err == nil {
		t.Error("no rules: no error")
	}
}

// tarList checks an entry as the system's tar lists it, where there is one.
func tarList(t *testing.T, archive, mode, name string) {
	t.Helper()
	if _, err := exec.LookPath("tar"); err != nil {
		return
	}
	out, err := exec.Command("tar", "-tvzf", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("tar -tvzf: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, mode) && strings.HasSuffix(line, " "+name) {
			return
		}
	}
	t.Errorf("tar does not list %s %s:\n%s", mode, name, out)
}

func TestFalcoPluginName(t *testing.T) {
	if name, err := FalcoPluginName("activityaudit", "0.1.0", "arm64"); err != nil || name != "activityaudit-0.1.0-linux-aarch64.tar.gz" {
		t.Errorf("arm64: %s %v", name, err)
	}
	if _, err := FalcoPluginName("activityaudit", "0.1.0", "riscv64"); err == nil {
		t.Error("riscv64: no error")
	}
}

func TestVersions(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "package.json", `{"name": "x", "version": "2.0.1"}`, 0o644)
	if v, err := PackageVersion(filepath.Join(dir, "package.json")); err != nil || v != "2.0.1" {
		t.Errorf("package.json: %q %v", v, err)
	}
	write(t, dir, "empty.json", `{"name": "x"}`, 0o644)
	if _, err := PackageVersion(filepath.Join(dir, "empty.json")); err == nil {
		t.Error("no version: no error")
	}
	write(t, dir, "v.go", "package p\n\nconst (\n\tName, Version = \"p\", \"0.4.0\"\n\tID = 7\n)\n", 0o644)
	if v, err := GoStringConst(filepath.Join(dir, "v.go"), "Version"); err != nil || v != "0.4.0" {
		t.Errorf("Version: %q %v", v, err)
	}
	if _, err := GoStringConst(filepath.Join(dir, "v.go"), "ID"); err == nil {
		t.Error("ID is no string: no error")
	}
	if _, err := GoStringConst(filepath.Join(dir, "v.go"), "Missing"); err == nil {
		t.Error("Missing: no error")
	}

	// The files `mage package` reads them from.
	root := filepath.Join("..", "..")
	if _, err := PackageVersion(filepath.Join(root, "grafana-app", "package.json")); err != nil {
		t.Error(err)
	}
	if _, err := GoStringConst(filepath.Join(root, "plugin", "activityaudit", "plugin.go"), "Version"); err != nil {
		t.Error(err)
	}
}

// TestArchivesAreReproducible: the same inputs make the same bytes.
func TestArchivesAreReproducible(t *testing.T) {
	dist := distDir(t)
	a, b := filepath.Join(t.TempDir(), "a.zip"), filepath.Join(t.TempDir(), "b.zip")
	for _, out := range []string{a, b} {
		if err := GrafanaPlugin(dist, out, "activityaudit-app", "1.2.3"); err != nil {
			t.Fatal(err)
		}
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Error("two zips of the same directory differ")
	}
}
