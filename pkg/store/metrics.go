package store

import (
	"github.com/activityaudit/activityaudit/pkg/store/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the store's Prometheus metrics.
type metrics struct {
	db           *storage.DB
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	pushed       prometheus.Counter
	duplicates   prometheus.Counter
	pushRejected *prometheus.CounterVec

	entries, streams, diskBytes      *prometheus.Desc
	retentionDeleted, diskCapDeleted *prometheus.Desc
}

func newMetrics(db *storage.DB) *metrics {
	const ns = "activityaudit_store_"
	return &metrics{
		db: db,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ns + "requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: ns + "request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"route"}),
		pushed:     prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "entries_pushed_total", Help: "Entries stored from push requests."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "entries_duplicate_total", Help: "Pushed entries dropped as identical to stored ones."}),
		pushRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ns + "push_rejected_total", Help: "Push requests refused, by reason.",
		}, []string{"reason"}),
		entries:          prometheus.NewDesc(ns+"entries", "Entries stored.", nil, nil),
		streams:          prometheus.NewDesc(ns+"streams", "Streams stored.", nil, nil),
		diskBytes:        prometheus.NewDesc(ns+"disk_bytes", "Bytes the store uses on disk.", nil, nil),
		retentionDeleted: prometheus.NewDesc(ns+"retention_deleted_total", "Entries deleted by retention.", nil, nil),
		diskCapDeleted:   prometheus.NewDesc(ns+"disk_cap_deleted_total", "Entries evicted (oldest first) to keep under the disk cap.", nil, nil),
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.duration.Describe(ch)
	m.pushed.Describe(ch)
	m.duplicates.Describe(ch)
	m.pushRejected.Describe(ch)
	for _, d := range []*prometheus.Desc{m.entries, m.streams, m.diskBytes, m.retentionDeleted, m.diskCapDeleted} {
		ch <- d
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.duration.Collect(ch)
	m.pushed.Collect(ch)
	m.duplicates.Collect(ch)
	m.pushRejected.Collect(ch)
	st := m.db.Stats()
	ch <- prometheus.MustNewConstMetric(m.entries, prometheus.GaugeValue, float64(st.Entries))
	ch <- prometheus.MustNewConstMetric(m.streams, prometheus.GaugeValue, float64(st.Streams))
	ch <- prometheus.MustNewConstMetric(m.diskBytes, prometheus.GaugeValue, float64(st.DiskBytes))
	ch <- prometheus.MustNewConstMetric(m.retentionDeleted, prometheus.CounterValue, float64(st.RetentionDeleted))
	ch <- prometheus.MustNewConstMetric(m.diskCapDeleted, prometheus.CounterValue, float64(st.DiskCapDeleted))
}
