package harness

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("dist/module.js", "define([],function(){})")
	write("dist/gpx_activityaudit_linux_amd64", "ELF")
	write("harness/build/index.html", "<html>harness</html>")
	write("harness/build/harness.js", "main()")
	write("node_modules/@grafana/ui/dist/public/img/icons/unicons/angle-double-right.svg", `<svg viewBox="0 0 24 24"><path d="M1"/></svg>`)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api "+r.URL.Path) })
	h := Handler(api, dir)

	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/a/activityaudit-app/audit?from=1&to=2", 200, "<html>harness</html>"},
		{"/a/activityaudit-app/trace/node-a:1:2", 200, "<html>harness</html>"},
		{"/public/plugins/activityaudit-app/module.js", 200, "define("},
		{"/public/plugins/activityaudit-app/gpx_activityaudit_linux_amd64", 404, ""},
		{"/harness/harness.js", 200, "main()"},
		{"/api/plugins/activityaudit-app/resources/groups", 200, "api /api/plugins/activityaudit-app/resources/groups"},
		{"/public/build/img/icons/unicons/angle-double-right.svg", 200, `<path d="M1"/>`},
		{"/public/build/img/icons/unicons/angle-double-left.svg", 200, `scale(-1,1)`},
		{"/public/build/img/icons/unicons/spinner.svg", 200, "<circle"},
		{"/public/fonts/inter/Inter-Regular.woff2", 204, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
			t.Errorf("GET %s: %d %q; want %d with %q", tt.path, rec.Code, rec.Body.String(), tt.status, tt.body)
		}
	}
}
