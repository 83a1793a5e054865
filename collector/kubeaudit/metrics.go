package kubeaudit

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Via is the input an event came through: the `via` label.
type Via string

// Inputs.
const (
	ViaWebhook Via = "webhook"
	ViaLog     Via = "log"
)

// metrics are kube exec capture's, under activityaudit_collector_audit_.
type metrics struct {
	received        *prometheus.CounterVec // via
	emitted         *prometheus.CounterVec // subresource
	malformed       *prometheus.CounterVec // via, reason
	unauthenticated prometheus.Counter
	scopeFailures   prometheus.Counter
	lateEnds        prometheus.Counter
	duplicates      prometheus.Counter
	evicted         *prometheus.CounterVec // kind
	sinkErrors      prometheus.Counter
	held            prometheus.Gauge
	requests        *prometheus.CounterVec // code
	rotations       *prometheus.CounterVec // kind
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "activityaudit", "collector_audit"
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "events_received_total", Help: "Well-formed audit events received, by input (webhook, log)."},
			[]string{"via"}),
		emitted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "kube_exec_records_total", Help: "kube_exec records handed to the sink, by subresource (exec, attach, ephemeralcontainers)."},
			[]string{"subresource"}),
		malformed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "malformed_total", Help: "Webhook bodies, EventList items and log lines refused, by input and reason (empty, json, kind, too_large, invalid)."},
			[]string{"via", "reason"}),
		unauthenticated: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "unauthenticated_requests_total", Help: "Webhook requests refused 401: no or wrong bearer token, no or untrusted client certificate."}),
		scopeFailures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "scope_lookup_failures_total", Help: "kube_exec records whose pod scope could not be looked up (emitted with the scope the audit event gives)."}),
		lateEnds: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "late_ends_total", Help: "ResponseComplete events of execs already emitted without end_time (their hold expired)."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "duplicates_dropped_total", Help: "Kube exec events dropped because their auditID and stage were already handled (redelivered batches)."}),
		evicted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "state_evictions_total", Help: "State given up at its bound: pending (a held exec emitted early, without end_time), remembered (an emitted auditID forgotten early)."},
			[]string{"kind"}),
		sinkErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "sink_errors_total", Help: "Batches the sink refused (the webhook answered 500 for the API server to retry; the tailer and the hold timer retry)."}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "held_execs", Help: "Started execs held waiting for their ResponseComplete."}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "webhook_requests_total", Help: "Webhook requests answered, by status code."},
			[]string{"code"}),
		rotations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "log_rotations_total", Help: "Audit log rotations followed: rename (read to its end, then the new file), truncate (copytruncate), missed (rotated while stopped and the old file is gone: its unread lines are lost)."},
			[]string{"kind"}),
	}
	for _, v := range []Via{ViaWebhook, ViaLog} {
		m.received.WithLabelValues(string(v))
		for _, r := range []string{ReasonEmpty, ReasonJSON, ReasonKind, ReasonTooLarge, ReasonInvalid} {
			m.malformed.WithLabelValues(string(v), r)
		}
	}
	for _, s := range Subresources {
		m.emitted.WithLabelValues(s)
	}
	for _, k := range []string{"pending", "remembered"} {
		m.evicted.WithLabelValues(k)
	}
	for _, k := range []string{"rename", "truncate", "missed"} {
		m.rotations.WithLabelValues(k)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.received, m.emitted, m.malformed, m.unauthenticated, m.scopeFailures,
			m.lateEnds, m.duplicates, m.evicted, m.sinkErrors, m.held, m.requests, m.rotations} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register audit metrics: %w", err)
			}
		}
	}
	return m, nil
}
