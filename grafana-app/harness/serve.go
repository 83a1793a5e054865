// Package harness serves the Activity Audit app's frontend where no Grafana
// runs: the browser harness page (harness.tsx, built into harness/build by
// `npm run build`) that plays Grafana's part around the real dist/module.js,
// next to Grafana's plugin API for the app (the devserver's handler).
//
//	/public/plugins/activityaudit-app/*   dist/ (module.js, plugin.json, img/), as Grafana serves a plugin
//	/harness/*                            harness/build/ (the harness bundle)
//	/public/build/img/icons/*             @grafana/ui's icons (Grafana serves them from its own build)
//	/public/fonts/*                       204: Grafana's fonts are not on npm
//	/api/*                                the app's API (resources, health, settings)
//	anything else                         the harness page: the app mounts at /a/activityaudit-app/
package harness

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// PluginID is the app's plugin id.
const PluginID = "activityaudit-app"

// Handler serves the harness page and the built app from appDir (the
// grafana-app directory, holding dist/ and harness/build/), and passes
// /api/ to api.
func Handler(api http.Handler, appDir string) http.Handler {
	dist := filepath.Join(appDir, "dist")
	build := filepath.Join(appDir, "harness", "build")
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/public/plugins/"+PluginID+"/", http.StripPrefix("/public/plugins/"+PluginID+"/", frontendOnly(http.FileServer(http.Dir(dist)))))
	mux.Handle("/harness/", http.StripPrefix("/harness/", http.FileServer(http.Dir(build))))
	mux.Handle("/public/build/img/icons/", http.StripPrefix("/public/build/img/icons/", icons(filepath.Join(appDir, "node_modules", "@grafana", "ui", "dist", "public", "img", "icons"))))
	mux.HandleFunc("/public/fonts/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		page, err := os.ReadFile(filepath.Join(build, "index.html"))
		if err != nil {
			http.Error(w, "the harness is not built: run npm --prefix grafana-app run build", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(page)
	})
	return mux
}

// fallbackIcon stands in for the icons Grafana ships that @grafana/ui's
// package does not (spinner, angle-double-left, ...): a ring.
const fallbackIcon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="12" cy="12" r="8" fill="none" stroke="currentColor" stroke-width="2" stroke-dasharray="38 12"/></svg>`

// icons serves @grafana/ui's icons from dir, and fallbackIcon for the others.
func icons(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clean := filepath.Clean("/" + r.URL.Path)
		if _, err := os.Stat(filepath.Join(dir, clean)); err != nil && strings.HasSuffix(clean, "-left.svg") {
			// The mirror image of the -right icon.
			if right, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(clean, "-left.svg")+"-right.svg")); err == nil {
				svg := string(right)
				if i, j := strings.Index(svg, ">"), strings.LastIndex(svg, "</svg>"); i > 0 && j > i {
					w.Header().Set("Content-Type", "image/svg+xml")
					_, _ = w.Write([]byte(svg[:i+1] + `<g transform="scale(-1,1) translate(-24,0)">` + svg[i+1:j] + "</g></svg>"))
					return
				}
			}
		}
		if _, err := os.Stat(filepath.Join(dir, clean)); err != nil && strings.HasSuffix(clean, ".svg") {
			w.Header().Set("Content-Type", "image/svg+xml")
			_, _ = w.Write([]byte(fallbackIcon))
			return
		}
		files.ServeHTTP(w, r)
	})
}

// frontendOnly keeps the backend binaries that share dist/ with the
// frontend from being served.
func frontendOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		if strings.HasPrefix(name, "gpx_") || name == "go_plugin_build_manifest" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
