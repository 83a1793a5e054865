package agent

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/activityaudit/activityaudit/collector/ship"
	"github.com/activityaudit/activityaudit/collector/spool"
)

// newOpsServer serves /metrics, /healthz and /debug/pprof/. /healthz answers 200 while
// records are being delivered, 503 with the reason while pushes fail (the
// spool still holds the records).
func newOpsServer(reg *prometheus.Registry, sh *ship.Shipper, sp *spool.Spool) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !sh.Healthy() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "loki push failing; %d records spooled\n", sp.Stats().Entries)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// Go's profiler, as Loki and Prometheus serve it: the ops port listens
	// on loopback unless configured otherwise.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}

// spoolCollector exports the spool's state.
type spoolCollector struct {
	sp                                          *spool.Spool
	entries, bytes, segments                    *prometheus.Desc
	appended, acked, dropped, rejected, corrupt *prometheus.Desc
	written                                     *prometheus.Desc
}

func newSpoolCollector(sp *spool.Spool) *spoolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("activityaudit_collector_spool_"+name, help, nil, nil)
	}
	return &spoolCollector{
		sp:       sp,
		entries:  d("entries", "Records in the spool not yet acknowledged by Loki."),
		bytes:    d("bytes", "Bytes of spool segment files on disk."),
		segments: d("segments", "Spool segment files."),
		appended: d("appended_total", "Records appended to the spool since start."),
		acked:    d("acked_total", "Records acknowledged by Loki and released from the spool since start."),
		dropped:  d("dropped_total", "Records lost because the spool was full (per the full policy)."),
		rejected: d("rejected_total", "Records too large for a spool segment."),
		corrupt:  d("corrupt_total", "Spool entries found corrupt at start and skipped."),
		written:  d("written_bytes_total", "Bytes written to the spool (write amplification)."),
	}
}

func (c *spoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.entries, c.bytes, c.segments, c.appended, c.acked, c.dropped, c.rejected, c.corrupt, c.written} {
		ch <- d
	}
}

func (c *spoolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.sp.Stats()
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(st.Entries))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(c.segments, prometheus.GaugeValue, float64(st.Segments))
	ch <- prometheus.MustNewConstMetric(c.appended, prometheus.CounterValue, float64(st.Appended))
	ch <- prometheus.MustNewConstMetric(c.acked, prometheus.CounterValue, float64(st.Acked))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(st.DroppedFull))
	ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(st.Rejected))
	ch <- prometheus.MustNewConstMetric(c.corrupt, prometheus.CounterValue, float64(st.Corrupt))
	ch <- prometheus.MustNewConstMetric(c.written, prometheus.CounterValue, float64(st.BytesWritten))
}
