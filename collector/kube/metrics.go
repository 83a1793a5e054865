package kube

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	metricsNamespace = "activityaudit"
	metricsSubsystem = "collector_kube"
)

// podsMetrics are Pods' gauges and counters, under activityaudit_collector_kube_.
type podsMetrics struct {
	pods         prometheus.Gauge
	containers   prometheus.Gauge
	ownerFetches *prometheus.CounterVec
	podFetches   *prometheus.CounterVec
}

func newPodsMetrics() *podsMetrics {
	m := &podsMetrics{
		pods: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "pods", Help: "Pods of this node known from the informer (not counting deleted ones kept for their grace)."}),
		containers: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "containers", Help: "Container ids indexed (this node's pods, deleted ones during their grace included)."}),
		ownerFetches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "owner_fetches_total", Help: "ReplicaSets and Jobs read from the API to find a pod's workload, by result (ok, not_found, error)."},
			[]string{"result"}),
		podFetches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "pod_fetches_total", Help: "Pods of other nodes read from the API for a kube exec's scope, by result (ok, not_found, error)."},
			[]string{"result"}),
	}
	for _, r := range []string{"ok", "not_found", "error"} {
		m.ownerFetches.WithLabelValues(r)
		m.podFetches.WithLabelValues(r)
	}
	return m
}

func (m *podsMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.pods, m.containers, m.ownerFetches, m.podFetches}
}

// counterVecInc counts by result on one CounterVec.
type counterVecInc struct{ v *prometheus.CounterVec }

func (c counterVecInc) inc(result string) { c.v.WithLabelValues(result).Inc() }

// Unattributed reasons: why a record with a container id went out
// without its Kubernetes scope.
const (
	// ReasonTimeout: held for the hold timeout and its container still unknown.
	ReasonTimeout = "timeout"
	// ReasonBound: released early because too many records were held.
	ReasonBound = "bound"
	// ReasonUnknown: its container already timed out once (not a pod's
	// container, e.g. a container run outside Kubernetes); not held again.
	ReasonUnknown = "unknown_container"
	// ReasonStopped: the enricher's Run had ended (shutdown).
	ReasonStopped = "stopped"
)

// enricherMetrics are the Enricher's gauges and counters.
type enricherMetrics struct {
	held             prometheus.Gauge
	lookups          *prometheus.CounterVec
	lookupHit        prometheus.Counter
	lookupMiss       prometheus.Counter
	unattributed     *prometheus.CounterVec
	probeRecords     prometheus.Counter
	probeForgotten   prometheus.Counter
	unknownForgotten prometheus.Counter
}

func newEnricherMetrics() *enricherMetrics {
	m := &enricherMetrics{
		held: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "held_records", Help: "Records held now, waiting for their container to be known."}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "lookups_total", Help: "Container id lookups of records as they arrive, by result (hit, miss)."},
			[]string{"result"}),
		// The one name the brief fixes outside the kube_ prefix: the
		// collector's records counters live under activityaudit_collector_.
		unattributed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: "collector",
			Name: "records_unattributed_total", Help: "Records with a container id shipped without their Kubernetes scope, by reason (timeout, bound, unknown_container, stopped)."},
			[]string{"reason"}),
		probeRecords: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "probe_records_total", Help: "Command records marked probe (kubelet exec probe sessions)."}),
		probeForgotten: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "probe_sessions_forgotten_total", Help: "Probe sessions forgotten to keep the bound; later commands of such a session are not marked probe."}),
		unknownForgotten: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem,
			Name: "unknown_containers_forgotten_total", Help: "Container ids given up on (timed out) forgotten to keep the bound; their next records are held again."}),
	}
	m.lookupHit, m.lookupMiss = m.lookups.WithLabelValues("hit"), m.lookups.WithLabelValues("miss")
	for _, r := range []string{ReasonTimeout, ReasonBound, ReasonUnknown, ReasonStopped} {
		m.unattributed.WithLabelValues(r)
	}
	return m
}

func (m *enricherMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.held, m.lookups, m.unattributed, m.probeRecords, m.probeForgotten, m.unknownForgotten}
}

func register(reg prometheus.Registerer, cs []prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register kube metrics: %w", err)
		}
	}
	return nil
}
