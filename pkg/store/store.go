// Package store is Activity Audit's embedded, Loki-API-compatible store: the
// same push API, query API and LogQL subset the product uses, persisted on
// local disk, so one machine (and every test) runs without a Loki.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/activityaudit/activityaudit/pkg/store/engine"
	"github.com/activityaudit/activityaudit/pkg/store/push"
	"github.com/activityaudit/activityaudit/pkg/store/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a store.
type Options struct {
	// Dir holds the data.
	Dir string
	// Listen is the address of the Loki API (default 127.0.0.1:3100).
	Listen string
	// Retention deletes entries older than this (0 keeps everything).
	Retention time.Duration
	// MaxDiskBytes evicts the oldest entries when the store is larger (0: no cap).
	MaxDiskBytes int64
	// Limits on pushed data; zero fields take Loki's defaults.
	Limits push.Limits
	// QueryTimeout bounds one query (default 2m).
	QueryTimeout time.Duration
	// Registerer receives the store's metrics (default: a registry of its own,
	// served on /metrics).
	Registerer prometheus.Registerer
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Metadata names the store treats specially: an equality index on the ids
// of sessions and processes, and the container scope kept in memory for
// fast counts.
var (
	IndexedMetadata = []string{"session", "exec_id"}
	GroupMetadata   = []string{"pod", "container", "container_id"}
)

// Store is a running embedded store.
type Store struct {
	opts    Options
	db      *storage.DB
	engine  *engine.Engine
	metrics *metrics
	gather  prometheus.Gatherer
	log     *slog.Logger
	handler http.Handler
}

// Open opens (or creates) the store in opts.Dir.
func Open(opts Options) (*Store, error) {
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:3100"
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 2 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Limits = opts.Limits.WithDefaults()
	db, err := storage.Open(storage.Options{
		Dir:             opts.Dir,
		Retention:       opts.Retention,
		MaxDiskBytes:    opts.MaxDiskBytes,
		IndexedMetadata: IndexedMetadata,
		GroupMetadata:   GroupMetadata,
	})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{opts: opts, db: db, engine: engine.New(db, GroupMetadata, IndexedMetadata), log: opts.Logger}
	reg := opts.Registerer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, s.gather = r, r
	}
	s.metrics = newMetrics(db)
	if err := reg.Register(s.metrics); err != nil {
		db.Close()
		return nil, fmt.Errorf("register store metrics: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// Handler serves the Loki API.
func (s *Store) Handler() http.Handler { return s.handler }

// DB is the storage underneath (for tests and benchmarks).
func (s *Store) DB() *storage.DB { return s.db }

// Engine is the query engine (for in-process callers).
func (s *Store) Engine() *engine.Engine { return s.engine }

// Close closes the storage. Call it after Run returns.
func (s *Store) Close() error { return s.db.Close() }

// Run serves the Loki API on opts.Listen and enforces retention and the disk
// cap until ctx is done; then it shuts the server down gracefully.
func (s *Store) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("listen store: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened.
func (s *Store) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	enforced := make(chan error, 1)
	go func() { enforced <- s.db.Run(ctx) }()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("embedded store serving the Loki API", "addr", ln.Addr().String(), "dir", s.opts.Dir)
	select {
	case <-ctx.Done():
	case err := <-served:
		cancel()
		<-enforced
		return fmt.Errorf("serve store: %w", err)
	}
	shutdown, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	err := srv.Shutdown(shutdown)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && serr != nil {
		err = errors.Join(err, serr)
	}
	if eerr := <-enforced; eerr != nil && !errors.Is(eerr, context.Canceled) {
		err = errors.Join(err, eerr)
	}
	return err
}
