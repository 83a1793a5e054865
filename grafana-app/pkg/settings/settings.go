// Package settings reads the app's settings as Grafana stores them: the
// jsonData object the config page writes, and the secrets of secureJsonData
// that Grafana decrypts before handing them to the backend.
//
//	jsonData:       lokiUrl, lokiTenant, lokiAuth (none|basic|bearer), lokiUser,
//	                grafanaUrl, policySelector, minRole, queryTimeout
//	secureJsonData: lokiPassword, lokiBearerToken
//
// The defaults match provisioning/: Loki at http://loki:3100 without auth,
// Falcosidekick's streams selected by their rule label, Editor to read.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/access"
	"github.com/activityaudit/activityaudit/pkg/loki"
)

// Defaults.
const (
	DefaultLokiURL        = "http://loki:3100"
	DefaultPolicySelector = `{rule=~".+"}`
	DefaultQueryTimeout   = 30 * time.Second
	DefaultMinRole        = access.Editor
)

// Auth is how the backend authenticates to Loki.
type Auth string

// Auth kinds.
const (
	AuthNone   Auth = "none"
	AuthBasic  Auth = "basic"
	AuthBearer Auth = "bearer"
)

// Names of the secrets in secureJsonData.
const (
	SecretPassword    = "lokiPassword"
	SecretBearerToken = "lokiBearerToken"
)

// JSONData is the app's jsonData as the config page writes it.
type JSONData struct {
	LokiURL        string `json:"lokiUrl,omitempty"`
	LokiTenant     string `json:"lokiTenant,omitempty"`
	LokiAuth       Auth   `json:"lokiAuth,omitempty"`
	LokiUser       string `json:"lokiUser,omitempty"`
	GrafanaURL     string `json:"grafanaUrl,omitempty"`
	PolicySelector string `json:"policySelector,omitempty"`
	MinRole        string `json:"minRole,omitempty"`
	QueryTimeout   string `json:"queryTimeout,omitempty"`
}

// Settings are the validated settings, defaults filled in.
type Settings struct {
	Loki loki.Config
	// GrafanaURL is the base of the links the backend writes; "" writes
	// links relative to Grafana's root.
	GrafanaURL string
	// PolicySelector is the LogQL stream selector of Falcosidekick's alerts.
	PolicySelector string
	// MinRole is the lowest Grafana role allowed to read activity.
	MinRole access.Role
	// QueryTimeout bounds one request to the app, its Loki queries included.
	QueryTimeout time.Duration
}

// Load validates jsonData and the decrypted secrets. appURL is Grafana's
// own root URL, the default for GrafanaURL ("" when unknown).
func Load(jsonData []byte, secrets map[string]string, appURL string) (Settings, error) {
	var d JSONData
	if len(strings.TrimSpace(string(jsonData))) > 0 {
		if err := json.Unmarshal(jsonData, &d); err != nil {
			return Settings{}, fmt.Errorf("read settings: %w", err)
		}
	}
	s := Settings{
		Loki: loki.Config{
			URL:    strings.TrimSpace(d.LokiURL),
			Tenant: strings.TrimSpace(d.LokiTenant),
		},
		GrafanaURL:     strings.TrimSpace(d.GrafanaURL),
		PolicySelector: strings.TrimSpace(d.PolicySelector),
		MinRole:        DefaultMinRole,
		QueryTimeout:   DefaultQueryTimeout,
	}
	if s.Loki.URL == "" {
		s.Loki.URL = DefaultLokiURL
	}
	if s.PolicySelector == "" {
		s.PolicySelector = DefaultPolicySelector
	}
	if s.GrafanaURL == "" {
		s.GrafanaURL = appURL
	}
	if s.GrafanaURL != "" {
		u, err := url.Parse(s.GrafanaURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Settings{}, fmt.Errorf("read settings: grafanaUrl %q is not an http(s) URL", s.GrafanaURL)
		}
	}
	if !strings.HasPrefix(s.PolicySelector, "{") || !strings.HasSuffix(s.PolicySelector, "}") {
		return Settings{}, fmt.Errorf("read settings: policySelector %q is not a LogQL stream selector like %s", s.PolicySelector, DefaultPolicySelector)
	}
	if d.MinRole != "" {
		r, ok := access.ParseRole(d.MinRole)
		if !ok || r == access.None {
			return Settings{}, fmt.Errorf("read settings: minRole %q: use Viewer, Editor or Admin", d.MinRole)
		}
		s.MinRole = r
	}
	if d.QueryTimeout != "" {
		t, err := time.ParseDuration(d.QueryTimeout)
		if err != nil || t <= 0 {
			return Settings{}, fmt.Errorf("read settings: queryTimeout %q is not a positive duration like 30s", d.QueryTimeout)
		}
		s.QueryTimeout = t
	}
	s.Loki.Timeout = s.QueryTimeout
	switch d.LokiAuth {
	case "", AuthNone:
	case AuthBasic:
		if d.LokiUser == "" {
			return Settings{}, errors.New("read settings: basic auth needs lokiUser")
		}
		s.Loki.Username, s.Loki.Password = d.LokiUser, secrets[SecretPassword]
	case AuthBearer:
		if secrets[SecretBearerToken] == "" {
			return Settings{}, fmt.Errorf("read settings: bearer auth needs the secret %s", SecretBearerToken)
		}
		s.Loki.BearerToken = secrets[SecretBearerToken]
	default:
		return Settings{}, fmt.Errorf("read settings: lokiAuth %q: use none, basic or bearer", d.LokiAuth)
	}
	if _, err := loki.New(s.Loki); err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	return s, nil
}
