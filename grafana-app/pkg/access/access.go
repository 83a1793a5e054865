// Package access guards the app's resources by Grafana role: command lines
// and connections are sensitive, so every request needs at least the
// configured role (Editor by default). A refusal answers 403 and is counted;
// nothing about the request is recorded.
package access

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/prometheus/client_golang/prometheus"
)

// Role is a Grafana organisation role, ordered by what it may do.
type Role int

// Roles, lowest first.
const (
	None Role = iota
	Viewer
	Editor
	Admin
)

var roleNames = [...]string{None: "None", Viewer: "Viewer", Editor: "Editor", Admin: "Admin"}

func (r Role) String() string {
	if r < None || r > Admin {
		return "None"
	}
	return roleNames[r]
}

// ParseRole reads a role name as Grafana writes it (case-insensitive).
func ParseRole(s string) (Role, bool) {
	for r, name := range roleNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return Role(r), true
		}
	}
	return None, false
}

// Metrics counts refusals. Make one per process: the counter is registered
// once, every app instance shares it.
type Metrics struct {
	Refused prometheus.Counter
}

// NewMetrics registers the access metrics with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Refused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "activityaudit",
			Subsystem: "app",
			Name:      "access_refused_total",
			Help:      "Resource requests refused because the Grafana user's role is below the app's minimum role.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Refused)
	}
	return m
}

// Require serves next only to users whose role is at least min; others get
// 403 with a JSON message and are counted. The user is the one Grafana names in the plugin
// context (httpadapter puts it in the request's context); a request without
// one is refused.
func Require(min Role, m *Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := None
		if u := backend.UserFromContext(r.Context()); u != nil {
			role, _ = ParseRole(u.Role)
		}
		if role >= min {
			next.ServeHTTP(w, r)
			return
		}
		if m != nil {
			m.Refused.Inc()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"kind":    "forbidden",
			"message": "Activity Audit needs the " + min.String() + " role or higher (you have " + role.String() + ")",
		})
	})
}
