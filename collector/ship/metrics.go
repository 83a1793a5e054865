package ship

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the shipper's counters, under activityaudit_collector_.
type Metrics struct {
	shipped       prometheus.Counter
	batches       prometheus.Counter
	pushDuration  prometheus.Histogram
	retries       *prometheus.CounterVec
	deadLetters   prometheus.Counter
	deadDropped   prometheus.Counter
	unreadable    prometheus.Counter
	lastDelivered prometheus.Gauge
}

// NewMetrics makes the shipper's metrics and registers them with reg (nil:
// not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	const ns, sub = "activityaudit", "collector"
	m := &Metrics{
		shipped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "records_shipped_total", Help: "Records Loki (or the embedded store) acknowledged with 2xx."}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "push_requests_total", Help: "Push requests answered 2xx."}),
		pushDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "push_duration_seconds", Help: "Time of one push request, answered or not.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "push_retries_total", Help: "Push attempts that failed and were retried, by reason (network, status_429, status_5xx, status_4xx)."},
			[]string{"reason"}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "dead_letters_total", Help: "Records Loki refused (400) and that were written to the dead-letter file with the reason."}),
		deadDropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "dead_letters_dropped_total", Help: "Refused records not written to the dead-letter file because it reached its size limit or could not be written."}),
		unreadable: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "spool_entries_unreadable_total", Help: "Spool entries that could not be decoded (sent to the dead-letter file)."}),
		lastDelivered: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "last_push_success_timestamp_seconds", Help: "When a push last succeeded."}),
	}
	for _, reason := range []string{"network", "status_429", "status_5xx", "status_4xx"} {
		m.retries.WithLabelValues(reason)
	}
	if reg != nil {
		reg.MustRegister(m.shipped, m.batches, m.pushDuration, m.retries, m.deadLetters, m.deadDropped, m.unreadable, m.lastDelivered)
	}
	return m
}
