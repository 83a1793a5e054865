package settings

import (
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/access"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name     string
		json     string
		secrets  map[string]string
		appURL   string
		check    func(t *testing.T, s Settings)
		wantErr  string
		noSecret string // must not appear in the error
	}{
		{name: "defaults", json: ``, check: func(t *testing.T, s Settings) {
			if s.Loki.URL != DefaultLokiURL || s.PolicySelector != DefaultPolicySelector || s.MinRole != access.Editor ||
				s.QueryTimeout != DefaultQueryTimeout || s.Loki.Timeout != DefaultQueryTimeout || s.GrafanaURL != "" {
				t.Errorf("%+v", s)
			}
		}},
		{name: "Grafana's own URL for links", json: `{}`, appURL: "https://grafana.example/", check: func(t *testing.T, s Settings) {
			if s.GrafanaURL != "https://grafana.example/" {
				t.Errorf("%q", s.GrafanaURL)
			}
		}},
		{name: "everything", json: `{"lokiUrl":"https://loki.example/prefix","lokiTenant":"team-a","lokiAuth":"basic","lokiUser":"u",
			"grafanaUrl":"https://g.example","policySelector":"{job=\"falco\"}","minRole":"viewer","queryTimeout":"1m"}`,
			secrets: map[string]string{SecretPassword: "p4ss"}, check: func(t *testing.T, s Settings) {
				if s.Loki.URL != "https://loki.example/prefix" || s.Loki.Tenant != "team-a" || s.Loki.Username != "u" || s.Loki.Password != "p4ss" ||
					s.GrafanaURL != "https://g.example" || s.PolicySelector != `{job="falco"}` || s.MinRole != access.Viewer || s.QueryTimeout != time.Minute {
					t.Errorf("%+v", s)
				}
			}},
		{name: "bearer", json: `{"lokiAuth":"bearer"}`, secrets: map[string]string{SecretBearerToken: "t0ken"}, check: func(t *testing.T, s Settings) {
			if s.Loki.BearerToken != "t0ken" || s.Loki.Username != "" {
				t.Errorf("%+v", s)
			}
		}},
		{name: "bearer without token", json: `{"lokiAuth":"bearer"}`, wantErr: "needs the secret lokiBearerToken"},
		{name: "basic without user", json: `{"lokiAuth":"basic"}`, secrets: map[string]string{SecretPassword: "p4ss"}, wantErr: "needs lokiUser", noSecret: "p4ss"},
		{name: "unknown auth", json: `{"lokiAuth":"kerberos"}`, wantErr: `lokiAuth "kerberos"`},
		{name: "bad URL", json: `{"lokiUrl":"ftp://x"}`, wantErr: "scheme"},
		{name: "credentials in the URL", json: `{"lokiUrl":"http://u:p4ss@loki"}`, wantErr: "must not hold credentials"},
		{name: "bad role", json: `{"minRole":"Owner"}`, wantErr: `minRole "Owner"`},
		{name: "role None", json: `{"minRole":"None"}`, wantErr: `minRole "None"`},
		{name: "bad timeout", json: `{"queryTimeout":"soon"}`, wantErr: "queryTimeout"},
		{name: "bad selector", json: `{"policySelector":"rule=x"}`, wantErr: "not a LogQL stream selector"},
		{name: "bad grafana URL", json: `{"grafanaUrl":"grafana"}`, wantErr: "grafanaUrl"},
		{name: "not JSON", json: `{`, wantErr: "read settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load([]byte(tt.json), tt.secrets, tt.appURL)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if tt.noSecret != "" && strings.Contains(err.Error(), tt.noSecret) {
					t.Errorf("the error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}
