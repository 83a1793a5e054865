// Package plugin is the Activity Audit app instance Grafana runs: it reads
// the app's settings, serves the resource API (pkg/api) to users with the
// configured role, and answers CheckHealth.
package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/access"
	"github.com/activityaudit/activityaudit/grafana-app/pkg/api"
	"github.com/activityaudit/activityaudit/grafana-app/pkg/settings"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/app"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"
	"github.com/grafana/grafana-plugin-sdk-go/config"
)

// ID is the app's plugin id.
const ID = "activityaudit-app"

// App is one app instance: one Grafana organisation's settings.
type App struct {
	backend.CallResourceHandler
	settings settings.Settings
	client   *loki.Client
	// err is why the settings are unusable; every request answers it.
	err error
}

var (
	_ backend.CallResourceHandler   = (*App)(nil)
	_ backend.CheckHealthHandler    = (*App)(nil)
	_ instancemgmt.InstanceDisposer = (*App)(nil)
)

// NewFactory returns the factory app.Manage calls for each organisation's
// settings. m counts refused requests (shared by every instance).
func NewFactory(m *access.Metrics) app.InstanceFactoryFunc {
	return func(ctx context.Context, s backend.AppInstanceSettings) (instancemgmt.Instance, error) {
		return New(ctx, s, m), nil
	}
}

// New makes an instance. Unusable settings do not fail it: its resources
// and CheckHealth answer what is wrong, so the config page can show it.
func New(ctx context.Context, s backend.AppInstanceSettings, m *access.Metrics) *App {
	a := &App{}
	appURL, _ := config.GrafanaConfigFromContext(ctx).AppURL()
	a.settings, a.err = settings.Load(s.JSONData, s.DecryptedSecureJSONData, appURL)
	if a.err == nil {
		a.client, a.err = loki.New(a.settings.Loki)
	}
	var h http.Handler
	if a.err != nil {
		h = misconfigured(a.err)
	} else {
		h = api.New(api.Config{
			Client:         a.client,
			GrafanaURL:     a.settings.GrafanaURL,
			PolicySelector: a.settings.PolicySelector,
			Timeout:        a.settings.QueryTimeout,
			Logger:         log.DefaultLogger,
		})
	}
	minRole := a.settings.MinRole
	if a.err != nil {
		minRole = settings.DefaultMinRole
	}
	a.CallResourceHandler = httpadapter.New(access.Require(minRole, m, h))
	return a
}

// Dispose is called when the settings change and the instance is replaced.
func (a *App) Dispose() {}

// misconfigured answers every resource with the settings' problem.
func misconfigured(err error) http.Handler {
	body, _ := json.Marshal(map[string]string{
		"kind":    "settings",
		"message": fmt.Sprintf("the Activity Audit app is not configured correctly: %v", err),
	})
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(body)
	})
}
