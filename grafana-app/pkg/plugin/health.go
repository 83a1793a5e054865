package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// HealthLookback is how far back CheckHealth looks for activity.
const HealthLookback = 24 * time.Hour

// Health is CheckHealth's JSON details.
type Health struct {
	// Loki is true when Loki answered a query with the configured auth.
	Loki bool `json:"loki"`
	// Activity is true when there are records of the last 24 hours;
	// Newest is the newest one's time (RFC 3339).
	Activity bool   `json:"activity"`
	Newest   string `json:"newest,omitempty"`
	// PolicyEvents is true when the policy selector found Falco alerts in
	// the last 24 hours.
	PolicyEvents bool `json:"policyEvents"`
}

// CheckHealth tells whether Loki answers (with the configured tenant and
// auth) and whether any activity and policy events are there yet. It is
// what the config page's "Test connection" shows.
func (a *App) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	if a.err != nil {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: a.err.Error()}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.settings.QueryTimeout)
	defer cancel()
	now := time.Now()
	var h Health
	req, err := logql.Events(logql.Scope{}, now.Add(-HealthLookback), now, 1)
	if err != nil {
		return nil, err
	}
	resp, err := a.client.QueryRange(ctx, loki.RangeQuery{Query: req.Query, Start: req.Start, End: req.End, Limit: 1, Direction: loki.Backward})
	if err != nil {
		return result(backend.HealthStatusError, h, "Loki at %s does not answer: %v", a.settings.Loki.URL, err), nil
	}
	h.Loki = true
	for _, s := range resp.Data.Streams {
		for _, e := range s.Entries {
			h.Activity = true
			h.Newest = time.Unix(0, e.Time).UTC().Format(time.RFC3339)
		}
	}
	policy, err := a.client.QueryRange(ctx, loki.RangeQuery{Query: a.settings.PolicySelector, Start: req.Start, End: req.End, Limit: 1, Direction: loki.Backward})
	if err != nil {
		return result(backend.HealthStatusError, h, "Loki at %s answers, but the policy events selector %s fails: %v", a.settings.Loki.URL, a.settings.PolicySelector, err), nil
	}
	for _, s := range policy.Data.Streams {
		h.PolicyEvents = h.PolicyEvents || len(s.Entries) > 0
	}
	events := "no policy events (Falco alerts from Falcosidekick) in the last 24 hours"
	if h.PolicyEvents {
		events = "policy events found"
	}
	if !h.Activity {
		return result(backend.HealthStatusOk, h, "Loki at %s answers, but holds no activity (job=%q) from the last 24 hours yet: is the collector shipping to it? %s.", a.settings.Loki.URL, field.Job, events), nil
	}
	return result(backend.HealthStatusOk, h, "Loki at %s answers; newest activity %s; %s.", a.settings.Loki.URL, h.Newest, events), nil
}

func result(status backend.HealthStatus, h Health, format string, args ...any) *backend.CheckHealthResult {
	details, _ := json.Marshal(h)
	return &backend.CheckHealthResult{Status: status, Message: fmt.Sprintf(format, args...), JSONDetails: details}
}
