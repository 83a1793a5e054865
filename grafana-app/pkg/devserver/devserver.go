// Package devserver serves the app where no Grafana runs: it plays
// Grafana's part for the app's backend, passing
// /api/plugins/activityaudit-app/resources/* to the real app instance's
// CallResource (with a plugin context naming a user and the app's
// settings) and /api/plugins/activityaudit-app/health to its CheckHealth,
// as Grafana's own plugin API does. Issue 9 adds the built frontend.
package devserver

import (
	"github.com/activityaudit/activityaudit/grafana-app/harness"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/access"
	"github.com/activityaudit/activityaudit/grafana-app/pkg/plugin"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/app"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
)

// Paths Grafana serves for an app plugin.
const (
	apiPrefix      = "/api/plugins/" + plugin.ID
	ResourcePrefix = apiPrefix + "/resources/"
	HealthPath     = apiPrefix + "/health"
	SettingsPath   = apiPrefix + "/settings"
)

// maxBody bounds a request body passed to CallResource.
const maxBody = 1 << 20

// Config configures a Server.
type Config struct {
	// Listen is the address to serve on (default 127.0.0.1:3300).
	Listen string
	// Settings are the app's settings, as Grafana would hand them over.
	Settings backend.AppInstanceSettings
	// User is who every request comes from (default an Admin named "dev").
	User *backend.User
	// Metrics counts refusals (default: not registered anywhere).
	Metrics *access.Metrics
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// AppDir is the grafana-app directory holding the built frontend
	// (dist/ and harness/build/); empty serves only the API.
	AppDir string
}

// Server is the development server.
type Server struct {
	cfg     Config
	im      instancemgmt.InstanceManager
	handler http.Handler
}

// New makes a Server; the app instance is made on the first request, as
// Grafana does.
func New(cfg Config) *Server {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:3300"
	}
	if cfg.User == nil {
		cfg.User = &backend.User{Login: "dev", Name: "Developer", Role: "Admin"}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = access.NewMetrics(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Settings.Updated.IsZero() {
		cfg.Settings.Updated = time.Now()
	}
	s := &Server{cfg: cfg, im: app.NewInstanceManager(plugin.NewFactory(cfg.Metrics))}
	mux := http.NewServeMux()
	mux.HandleFunc(ResourcePrefix, s.resource)
	mux.HandleFunc("GET "+HealthPath, s.health)
	mux.HandleFunc("GET "+SettingsPath, s.settings)
	s.handler = mux
	if cfg.AppDir != "" {
		s.handler = harness.Handler(mux, cfg.AppDir)
	}
	return s
}

// Handler serves Grafana's plugin API for the app.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves on cfg.Listen until ctx is done, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen devserver: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.cfg.Logger.Info("devserver serving the Activity Audit app API", "addr", "http://"+ln.Addr().String()+ResourcePrefix)
	select {
	case err := <-served:
		return fmt.Errorf("serve devserver: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// pluginContext is what Grafana sends with every call.
func (s *Server) pluginContext() backend.PluginContext {
	settings := s.cfg.Settings
	return backend.PluginContext{OrgID: 1, PluginID: plugin.ID, User: s.cfg.User, AppInstanceSettings: &settings}
}

func (s *Server) instance(ctx context.Context) (*plugin.App, error) {
	inst, err := s.im.Get(ctx, s.pluginContext())
	if err != nil {
		return nil, fmt.Errorf("get app instance: %w", err)
	}
	a, ok := inst.(*plugin.App)
	if !ok {
		return nil, fmt.Errorf("get app instance: got %T", inst)
	}
	return a, nil
}

// resource passes a request to CallResource, as Grafana's
// /api/plugins/{id}/resources/* does.
func (s *Server) resource(w http.ResponseWriter, r *http.Request) {
	a, err := s.instance(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := &backend.CallResourceRequest{
		PluginContext: s.pluginContext(),
		Path:          strings.TrimPrefix(r.URL.EscapedPath(), ResourcePrefix),
		Method:        r.Method,
		URL:           r.URL.String(),
		Headers:       r.Header.Clone(),
		Body:          body,
	}
	if err := a.CallResource(r.Context(), req, Sender(w)); err != nil {
		http.Error(w, "call resource: "+err.Error(), http.StatusInternalServerError)
	}
}

// Sender writes CallResource's answer to w: status and headers from the
// first part, the body from every part.
func Sender(w http.ResponseWriter) backend.CallResourceResponseSender {
	started := false
	return backend.CallResourceResponseSenderFunc(func(resp *backend.CallResourceResponse) error {
		if !started {
			started = true
			for k, vs := range resp.Headers {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			status := resp.Status
			if status == 0 {
				status = http.StatusOK
			}
			w.WriteHeader(status)
		}
		_, err := w.Write(resp.Body)
		return err
	})
}

// health answers like Grafana's /api/plugins/{id}/health: 200 with
// status OK, 503 otherwise.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	a, err := s.instance(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	res, err := a.CheckHealth(r.Context(), &backend.CheckHealthRequest{PluginContext: s.pluginContext()})
	if err != nil {
		http.Error(w, "check health: "+err.Error(), http.StatusInternalServerError)
		return
	}
	status := http.StatusOK
	if res.Status != backend.HealthStatusOk {
		status = http.StatusServiceUnavailable
	}
	ans := map[string]any{"status": res.Status.String(), "message": res.Message}
	if len(res.JSONDetails) > 0 {
		ans["details"] = json.RawMessage(res.JSONDetails)
	}
	writeJSON(w, status, ans)
}

// settings answers like Grafana's /api/plugins/{id}/settings: the
// jsonData and which secrets are set (never their values).
func (s *Server) settings(w http.ResponseWriter, _ *http.Request) {
	secure := map[string]bool{}
	for k, v := range s.cfg.Settings.DecryptedSecureJSONData {
		secure[k] = v != ""
	}
	jsonData := json.RawMessage(s.cfg.Settings.JSONData)
	if len(jsonData) == 0 {
		jsonData = json.RawMessage("{}")
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": plugin.ID, "type": "app", "enabled": true, "pinned": true,
		"jsonData": jsonData, "secureJsonFields": secure,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
