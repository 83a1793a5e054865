// Package agent wires the collector: a capture source feeds the spool, a
// shipper delivers the spool to Loki (or to the embedded store it runs in
// the same process), and an operations server exposes /metrics and
// /healthz.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	lokiclient "github.com/grafana/loki-client-go/loki"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/activityaudit/activityaudit/collector/ship"
	"github.com/activityaudit/activityaudit/collector/spool"
	"github.com/activityaudit/activityaudit/pkg/store"
)

// Source produces records into a spool writer until ctx ends.
type Source interface {
	// Run writes records to w (and flushes it) until ctx is done.
	Run(ctx context.Context, w *ship.Writer) error
	// Register adds the source's metrics to reg.
	Register(reg prometheus.Registerer) error
}

// Config configures the agent.
type Config struct {
	// DataDir holds the spool, the dead-letter file and, in embedded
	// mode, the store.
	DataDir string
	// Loki is where records go; with no URL, the embedded store is run
	// and records go to it.
	Loki lokiclient.Config
	// HTTPClient carries Loki's TLS and auth settings.
	HTTPClient *http.Client
	// Store configures the embedded store (its Dir is set from DataDir).
	Store store.Options
	// Spool bounds and policies (its Dir is set from DataDir).
	Spool spool.Options
	// MetricsListen is the address of /metrics and /healthz ("" or "off": none).
	MetricsListen string
	// StatsInterval is how often a summary is logged (0: every minute).
	StatsInterval time.Duration
	Log           *slog.Logger
	// Ready, when set, is called once the agent is ready: with the Loki
	// URL records go to and the operations address (empty when off).
	Ready func(lokiURL, metricsAddr string)
}

// Run runs the agent with its sources until ctx ends, then flushes: the
// sources stop, the shipper delivers what it can within its drain timeout,
// the rest stays in the spool.
func Run(ctx context.Context, cfg Config, sources ...Source) error {
	if len(sources) == 0 {
		return errors.New("run agent: no source")
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, src := range sources {
		if err := src.Register(reg); err != nil {
			return fmt.Errorf("register source metrics: %w", err)
		}
	}

	cfg.Spool.Dir = filepath.Join(cfg.DataDir, "spool")
	sp, err := spool.Open(cfg.Spool)
	if err != nil {
		return err
	}
	defer sp.Close()
	reg.MustRegister(newSpoolCollector(sp))

	g, gctx := errgroup.WithContext(ctx)
	var embedded *store.Store
	if cfg.Loki.URL.URL == nil {
		cfg.Store.Dir = filepath.Join(cfg.DataDir, "store")
		cfg.Store.Registerer = reg
		cfg.Store.Logger = log
		if embedded, err = store.Open(cfg.Store); err != nil {
			return err
		}
		defer embedded.Close()
		ln, err := net.Listen("tcp", cfg.Store.Listen)
		if err != nil {
			return fmt.Errorf("listen store: %w", err)
		}
		if err := cfg.Loki.URL.Set("http://" + ln.Addr().String()); err != nil {
			ln.Close()
			return fmt.Errorf("set store url: %w", err)
		}
		// The store outlives capture and shipping so the final flush lands.
		storeCtx, stopStore := context.WithCancel(context.Background())
		defer stopStore()
		storeDone := make(chan error, 1)
		go func() { storeDone <- embedded.Serve(storeCtx, ln) }()
		defer func() { stopStore(); <-storeDone }()
	}

	shipper, err := ship.New(ship.Config{
		Loki:       cfg.Loki,
		HTTPClient: cfg.HTTPClient,
		DeadLetter: filepath.Join(cfg.DataDir, "dead-letter.ndjson"),
		Metrics:    ship.NewMetrics(reg),
		Log:        log,
	}, sp)
	if err != nil {
		return err
	}

	metricsAddr := ""
	if cfg.MetricsListen != "" && cfg.MetricsListen != "off" {
		ln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			return fmt.Errorf("listen metrics: %w", err)
		}
		metricsAddr = ln.Addr().String()
		srv := newOpsServer(reg, shipper, sp)
		g.Go(func() error { return serve(gctx, srv, ln) })
	}

	// The sources stop first; the shipper then drains what was spooled.
	shipCtx, stopShip := context.WithCancel(context.Background())
	defer stopShip()
	var srcs errgroup.Group
	for _, src := range sources {
		srcs.Go(func() error { return src.Run(gctx, ship.NewWriter(sp)) })
	}
	g.Go(func() error {
		err := srcs.Wait()
		stopShip()
		return err
	})
	g.Go(func() error { return shipper.Run(shipCtx) })
	g.Go(func() error { return logStats(gctx, log, cfg.StatsInterval, sp, shipper) })
	if cfg.Ready != nil {
		cfg.Ready(cfg.Loki.URL.String(), metricsAddr)
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// serve runs srv on ln until ctx ends.
func serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	}
}

// logStats logs a summary now and then, and loudly whenever records were
// lost to a full spool.
func logStats(ctx context.Context, log *slog.Logger, every time.Duration, sp *spool.Spool, sh *ship.Shipper) error {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var lastDropped uint64
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		st := sp.Stats()
		if st.DroppedFull > lastDropped {
			log.Error("SPOOL FULL: records lost", "lost_since_last_report", st.DroppedFull-lastDropped,
				"lost_total", st.DroppedFull, "spool_bytes", st.Bytes, "hint", "Loki is unreachable or too slow; raise --spool-max-bytes or fix delivery")
			lastDropped = st.DroppedFull
		}
		log.Info("spool", "entries", st.Entries, "bytes", st.Bytes, "appended", st.Appended, "acked", st.Acked, "delivering", sh.Healthy())
	}
}
