// Package release writes the release archives in the layouts their
// installers expect, and reads archives back:
//
//   - the Grafana app plugin zip, <id>-<version>.zip: one top folder named
//     after the plugin id holding the built dist/ (plugin.json, module.js,
//     img/, README, the backend executables <executable>_<os>_<arch> with
//     their executable bits), as `grafana cli plugins install --pluginUrl`
//     and Grafana's installer unpack it (they replace the top folder's name
//     with the plugin id and keep each entry's mode);
//   - the Falco plugin tarball, <name>-<version>-linux-<arch>.tar.gz, holding
//     only lib<name>.so at its root, and the rules tarball,
//     <name>-rules-<version>.tar.gz, holding only the rules files, as
//     falcosecurity/plugins packages them (`make package/<name>`; <arch> is
//     `uname -m`: x86_64, aarch64). falcoctl unpacks a plugin tarball into
//     /usr/share/falco/plugins, which is why nothing else goes in it.
package release

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// File is one archive entry: written from disk, or read back.
type File struct {
	Name    string      // slash-separated path in the archive; directories end in "/"
	Mode    fs.FileMode // permission bits, with fs.ModeDir for directories
	ModTime time.Time
	Data    []byte // a regular file's contents
}

// GrafanaZipName is the Grafana plugin archive's file name.
func GrafanaZipName(pluginID, version string) string {
	return pluginID + "-" + version + ".zip"
}

// FalcoPluginName is the Falco plugin tarball's file name for a Go
// architecture (amd64, arm64).
func FalcoPluginName(name, version, goarch string) (string, error) {
	arch, err := falcoArch(goarch)
	if err != nil {
		return "", err
	}
	return name + "-" + version + "-linux-" + arch + ".tar.gz", nil
}

// FalcoRulesName is the Falco rules tarball's file name.
func FalcoRulesName(name, version string) string {
	return name + "-rules-" + version + ".tar.gz"
}

// falcoArch is `uname -m` for a Go architecture: what Falco's artifacts are
// named after.
func falcoArch(goarch string) (string, error) {
	switch goarch {
	case "amd64":
		return "x86_64", nil
	case "arm64":
		return "aarch64", nil
	}
	return "", fmt.Errorf("no Falco plugin architecture name for GOARCH %q (Falco ships x86_64 and aarch64)", goarch)
}

// pluginJSON is what the zip's check reads from a Grafana plugin.json.
type pluginJSON struct {
	ID         string `json:"id"`
	Backend    bool   `json:"backend"`
	Executable string `json:"executable"`
	Info       struct {
		Version string `json:"version"`
	} `json:"info"`
}

// placeholder is a build-time substitution left in place (%VERSION%).
var placeholder = regexp.MustCompile(`%[A-Z_]+%`)

// GrafanaPlugin writes the Grafana app plugin zip at out from a built
// plugin directory (grafana-app/dist). It checks first that the directory
// is a build of this version: plugin.json's id is pluginID, its
// info.version is version and no build placeholder is left in it,
// module.js is there, and, for a backend plugin, at least one
// <executable>_<os>_<arch> executable is, each with an executable bit.
func GrafanaPlugin(distDir, out, pluginID, version string) error {
	raw, err := os.ReadFile(filepath.Join(distDir, "plugin.json"))
	if err != nil {
		return err
	}
	var pj pluginJSON
	if err := json.Unmarshal(raw, &pj); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(distDir, "plugin.json"), err)
	}
	switch {
	case pj.ID != pluginID:
		return fmt.Errorf("plugin.json: id is %q, want %q", pj.ID, pluginID)
	case pj.Info.Version != version:
		return fmt.Errorf("plugin.json: info.version is %q, want %q (build the frontend: npm run build)", pj.Info.Version, version)
	case placeholder.Match(raw):
		return fmt.Errorf("plugin.json: %s was not filled in by the build", placeholder.Find(raw))
	}
	if _, err := os.Stat(filepath.Join(distDir, "module.js")); err != nil {
		return fmt.Errorf("no module.js (build the frontend: npm run build): %w", err)
	}
	files, err := readTree(distDir, pluginID)
	if err != nil {
		return err
	}
	if pj.Backend {
		if err := checkExecutables(files, pluginID, pj.Executable); err != nil {
			return err
		}
	}
	return writeZip(out, files)
}

// checkExecutables checks a backend plugin's executables: at least one,
// all executable.
func checkExecutables(files []File, pluginID, executable string) error {
	if executable == "" {
		return errors.New("plugin.json: a backend plugin without an executable")
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(pluginID+"/"+executable) + `_[a-z]+_[a-z0-9]+(\.exe)?$`)
	n := 0
	for _, f := range files {
		if !re.MatchString(f.Name) {
			continue
		}
		if f.Mode&0o111 == 0 {
			return fmt.Errorf("%s is not executable (mode %v)", f.Name, f.Mode)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no backend executable %s_<os>_<arch> (build it: go tool mage grafanaBackend)", executable)
	}
	return nil
}

// FalcoPlugin writes the Falco plugin tarball at out: the shared library
// alone, at the root.
func FalcoPlugin(so, out string) error {
	f, err := readFile(so, filepath.Base(so))
	if err != nil {
		return err
	}
	return writeTarGz(out, []File{f})
}

// FalcoRules writes the Falco rules tarball at out: the rules files, at the
// root.
func FalcoRules(rules []string, out string) error {
	if len(rules) == 0 {
		return errors.New("no rules files")
	}
	var files []File
	for _, r := range rules {
		f, err := readFile(r, filepath.Base(r))
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	return writeTarGz(out, files)
}

// readTree reads every directory and regular file under dir, named under
// top/ in the archive, in lexical order. Anything else (a symlink, a
// device) is an error: an installer would refuse it or resolve it
// elsewhere.
func readTree(dir, top string) ([]File, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	files := []File{{Name: top + "/", Mode: fs.ModeDir | info.Mode().Perm(), ModTime: info.ModTime()}}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := top + "/" + filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			info, err := d.Info()
			if err != nil {
				return err
			}
			files = append(files, File{Name: name + "/", Mode: fs.ModeDir | info.Mode().Perm(), ModTime: info.ModTime()})
		case d.Type().IsRegular():
			f, err := readFile(p, name)
			if err != nil {
				return err
			}
			files = append(files, f)
		default:
			return fmt.Errorf("%s: not a regular file or directory (%v)", p, d.Type())
		}
		return nil
	})
	return files, err
}

func readFile(p, name string) (File, error) {
	info, err := os.Stat(p)
	if err != nil {
		return File{}, err
	}
	if !info.Mode().IsRegular() {
		return File{}, fmt.Errorf("%s: not a regular file", p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return File{}, err
	}
	return File{Name: name, Mode: info.Mode().Perm(), ModTime: info.ModTime(), Data: data}, nil
}

// create writes an archive through a temporary file renamed into place,
// so that a failure leaves no half-written archive under out's name.
func create(out string, write func(io.Writer) error) (err error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func writeZip(out string, files []File) error {
	return create(out, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		for _, f := range files {
			h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: f.ModTime.UTC().Truncate(time.Second)}
			if f.Mode.IsDir() {
				h.Method = zip.Store
			}
			// Unix mode bits in the external attributes: Grafana's
			// installer creates each file with the entry's mode.
			h.SetMode(f.Mode)
			fw, err := zw.CreateHeader(h)
			if err != nil {
				return err
			}
			if _, err := fw.Write(f.Data); err != nil {
				return err
			}
		}
		return zw.Close()
	})
}

func writeTarGz(out string, files []File) error {
	return create(out, func(w io.Writer) error {
		gz := gzip.NewWriter(w)
		tw := tar.NewWriter(gz)
		for _, f := range files {
			h := &tar.Header{
				Typeflag: tar.TypeReg,
				Name:     f.Name,
				Mode:     int64(f.Mode.Perm()),
				Size:     int64(len(f.Data)),
				ModTime:  f.ModTime.UTC().Truncate(time.Second),
				Format:   tar.FormatPAX,
			}
			if f.Mode.IsDir() {
				h.Typeflag, h.Size = tar.TypeDir, 0
			}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if _, err := tw.Write(f.Data); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return gz.Close()
	})
}

// ReadZip reads a zip archive's entries, in archive order.
func ReadZip(p string) ([]File, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var files []File
	for _, zf := range zr.File {
		f := File{Name: zf.Name, Mode: zf.Mode(), ModTime: zf.Modified}
		if !zf.FileInfo().IsDir() {
			rc, err := zf.Open()
			if err != nil {
				return nil, err
			}
			f.Data, err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", zf.Name, err)
			}
		}
		files = append(files, f)
	}
	return files, nil
}

// ReadTarGz reads a gzipped tar archive's entries, in archive order.
func ReadTarGz(p string) ([]File, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	gz, err := gzip.NewReader(fh)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	var files []File
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		f := File{Name: h.Name, Mode: h.FileInfo().Mode(), ModTime: h.ModTime}
		if f.Data, err = io.ReadAll(tr); err != nil {
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		files = append(files, f)
	}
}

// PackageVersion is the version in an npm package.json.
func PackageVersion(packageJSON string) (string, error) {
	raw, err := os.ReadFile(packageJSON)
	if err != nil {
		return "", err
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return "", fmt.Errorf("%s: %w", packageJSON, err)
	}
	if pkg.Version == "" {
		return "", fmt.Errorf("%s: no version", packageJSON)
	}
	return pkg.Version, nil
}

// GoStringConst is the value of a string constant declared in a Go file
// (the Falco plugin's Version), read without building the package.
func GoStringConst(goFile, name string) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), goFile, nil, parser.SkipObjectResolution)
	if err != nil {
		return "", err
	}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name != name || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return "", fmt.Errorf("%s: %s is not a string literal", goFile, name)
				}
				return strconv.Unquote(lit.Value)
			}
		}
	}
	return "", fmt.Errorf("%s: no constant %s", goFile, name)
}
