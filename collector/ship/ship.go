// Package ship delivers spooled records to Loki's push API (or the embedded
// store's) and acknowledges them to the spool only once the server answered
// 2xx. Failures retry with loki-client-go's backoff until delivered; a
// batch refused with 400 is split until the refused records are isolated,
// and those go to a dead-letter file with Loki's reason.
package ship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	lokiclient "github.com/grafana/loki-client-go/loki"
	"github.com/grafana/loki-client-go/pkg/backoff"

	"github.com/activityaudit/activityaudit/collector/spool"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// Config configures a Shipper.
type Config struct {
	// Loki is loki-client-go's configuration: URL, tenant, batch wait and
	// size, backoff, external labels, timeout. MaxRetries is ignored:
	// retries never stop, the spool holds the records meanwhile.
	Loki lokiclient.Config
	// HTTPClient carries TLS and auth (default http.DefaultClient).
	HTTPClient *http.Client
	// DeadLetter is the file refused records are appended to (NDJSON).
	DeadLetter string
	// DeadLetterMaxBytes caps the dead-letter file; 0 means 100 MiB.
	DeadLetterMaxBytes int64
	// MaxEntries caps the records of one push; 0 means 10,000.
	MaxEntries int
	// DrainTimeout bounds the delivery of what is spooled once Run's
	// context ends (clean shutdown); 0 means 5s, negative skips it.
	DrainTimeout time.Duration
	// UserAgent is sent on each push.
	UserAgent string
	Metrics   *Metrics
	Log       *slog.Logger
}

// Shipper moves records from a spool to Loki.
type Shipper struct {
	cfg      Config
	url      string
	external []record.Pair
	spool    *spool.Spool
	dead     *deadLetters
	m        *Metrics
	log      *slog.Logger
	failing  atomic.Bool
}

// New checks cfg and makes a shipper reading sp.
func New(cfg Config, sp *spool.Spool) (*Shipper, error) {
	if cfg.Loki.URL.URL == nil {
		return nil, errors.New("configure shipper: no loki url")
	}
	if cfg.Loki.BatchWait <= 0 {
		cfg.Loki.BatchWait = lokiclient.BatchWait
	}
	if cfg.Loki.BatchSize <= 0 {
		cfg.Loki.BatchSize = lokiclient.BatchSize
	}
	if cfg.Loki.Timeout <= 0 {
		cfg.Loki.Timeout = lokiclient.Timeout
	}
	if cfg.Loki.BackoffConfig.MinBackoff <= 0 {
		cfg.Loki.BackoffConfig.MinBackoff = lokiclient.MinBackoff
	}
	if cfg.Loki.BackoffConfig.MaxBackoff < cfg.Loki.BackoffConfig.MinBackoff {
		cfg.Loki.BackoffConfig.MaxBackoff = max(cfg.Loki.BackoffConfig.MinBackoff, 30*time.Second)
	}
	cfg.Loki.BackoffConfig.MaxRetries = 0
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 10000
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 5 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "activity-audit-collector"
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.DeadLetter == "" {
		return nil, errors.New("configure shipper: no dead-letter file")
	}
	dead, err := openDeadLetters(cfg.DeadLetter, cfg.DeadLetterMaxBytes)
	if err != nil {
		return nil, err
	}
	s := &Shipper{
		cfg:   cfg,
		url:   strings.TrimSuffix(cfg.Loki.URL.String(), "/") + "/loki/api/v1/push",
		spool: sp,
		dead:  dead,
		m:     cfg.Metrics,
		log:   cfg.Log,
	}
	for name, value := range cfg.Loki.ExternalLabels.LabelSet {
		s.external = append(s.external, record.Pair{Name: string(name), Value: string(value)})
	}
	sortPairs(s.external)
	return s, nil
}

// Healthy reports whether the last push attempt succeeded (or none failed yet).
func (s *Shipper) Healthy() bool { return !s.failing.Load() }

// Run ships until ctx ends, then delivers what is spooled within the drain
// timeout and closes the dead-letter file. Records not delivered stay in
// the spool for the next start.
func (s *Shipper) Run(ctx context.Context) error {
	defer s.dead.Close()
	err := s.loop(ctx)
	if ctx.Err() == nil || s.cfg.DrainTimeout < 0 {
		return err
	}
	s.spool.Rewind()
	dctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	for dctx.Err() == nil {
		b, err := s.spool.Read(dctx, s.cfg.MaxEntries, s.cfg.Loki.BatchSize, 0)
		if err != nil || len(b.Entries) == 0 {
			break
		}
		if err := s.deliver(dctx, b.Entries); err != nil {
			s.log.Warn("shutdown: records left in the spool for the next start", "entries", s.spool.Stats().Entries, "err", err)
			break
		}
		if err := s.spool.Ack(b); err != nil {
			return err
		}
	}
	return nil
}

// loop reads batches of up to BatchSize bytes, waiting at most BatchWait
// after the first record, pushes and acknowledges them.
func (s *Shipper) loop(ctx context.Context) error {
	var batches []spool.Batch
	var entries [][]byte
	for {
		batches, entries = batches[:0], entries[:0]
		first, err := s.spool.Read(ctx, s.cfg.MaxEntries, s.cfg.Loki.BatchSize, time.Hour)
		if err != nil {
			return ignoreCanceled(ctx, err)
		}
		if len(first.Entries) == 0 {
			continue
		}
		batches = append(batches, first)
		entries = append(entries, first.Entries...)
		size := entriesSize(first.Entries)
		deadline := time.Now().Add(s.cfg.Loki.BatchWait)
		for size < s.cfg.Loki.BatchSize && len(entries) < s.cfg.MaxEntries {
			wait := time.Until(deadline)
			if wait <= 0 {
				break
			}
			more, err := s.spool.Read(ctx, s.cfg.MaxEntries-len(entries), s.cfg.Loki.BatchSize-size, wait)
			if err != nil {
				return ignoreCanceled(ctx, err)
			}
			if len(more.Entries) == 0 {
				break
			}
			batches = append(batches, more)
			entries = append(entries, more.Entries...)
			size += entriesSize(more.Entries)
		}
		if err := s.deliver(ctx, entries); err != nil {
			return ignoreCanceled(ctx, err)
		}
		for _, b := range batches {
			if err := s.spool.Ack(b); err != nil {
				return err
			}
		}
	}
}

func ignoreCanceled(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func entriesSize(es [][]byte) int {
	n := 0
	for _, e := range es {
		n += len(e)
	}
	return n
}

// deliver pushes raw spool entries until Loki took or refused each one.
func (s *Shipper) deliver(ctx context.Context, raw [][]byte) error {
	entries := make([]record.Entry, 0, len(raw))
	for _, b := range raw {
		e, err := ParseEntry(b)
		if err != nil {
			s.m.unreadable.Inc()
			s.deadLetter(nil, raw2text(b), 0, "unreadable spool entry: "+err.Error())
			continue
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil
	}
	return s.pushAll(ctx, entries)
}

func raw2text(b []byte) string { return strconv.QuoteToASCII(string(b)) }

// pushAll pushes entries, retrying until they are delivered; a batch
// refused with 400 or 413 is split in halves until each refused record is
// alone, and refused single records are dead-lettered.
func (s *Shipper) pushAll(ctx context.Context, entries []record.Entry) error {
	bo := backoff.New(ctx, s.cfg.Loki.BackoffConfig)
	for {
		status, reason, err := s.push(ctx, entries)
		switch {
		case err == nil && status/100 == 2:
			if s.failing.Swap(false) {
				s.log.Info("loki push succeeds again", "retries", bo.NumRetries())
			}
			s.m.shipped.Add(float64(len(entries)))
			s.m.batches.Inc()
			s.m.lastDelivered.SetToCurrentTime()
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil && (status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge):
			if len(entries) == 1 {
				s.deadLetter(&entries[0], "", status, reason)
				return nil
			}
			h := len(entries) / 2
			if err := s.pushAll(ctx, entries[:h]); err != nil {
				return err
			}
			return s.pushAll(ctx, entries[h:])
		}
		label := "network"
		switch {
		case err != nil:
			reason = err.Error()
		case status == http.StatusTooManyRequests:
			label = "status_429"
		case status >= 500:
			label = "status_5xx"
		default:
			label = "status_4xx"
		}
		s.m.retries.WithLabelValues(label).Inc()
		if !s.failing.Swap(true) || bo.NumRetries()%20 == 19 {
			s.log.Warn("loki push failed; records stay in the spool and are retried", "status", status, "reason", reason,
				"records", len(entries), "retries", bo.NumRetries()+1)
		}
		bo.Wait()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// push sends one request: it returns the status and, when not 2xx, Loki's
// reason; err is a failure to get an answer.
func (s *Shipper) push(ctx context.Context, entries []record.Entry) (int, string, error) {
	body, err := encodeRequest(entries, s.external)
	if err != nil {
		return 0, "", fmt.Errorf("encode push request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Loki.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("make push request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	if s.cfg.Loki.TenantID != "" {
		req.Header.Set("X-Scope-OrgID", s.cfg.Loki.TenantID)
	}
	start := time.Now()
	resp, err := s.cfg.HTTPClient.Do(req)
	s.m.pushDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		return 0, "", fmt.Errorf("push to loki: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, "", nil
	}
	reason := strings.TrimSpace(string(msg))
	if reason == "" {
		reason = resp.Status
	}
	return resp.StatusCode, reason, nil
}

func (s *Shipper) deadLetter(e *record.Entry, raw string, status int, reason string) {
	s.log.Error("loki refused a record; written to the dead-letter file", "file", s.cfg.DeadLetter, "status", status, "reason", reason)
	if err := s.dead.Write(e, raw, status, reason); err != nil {
		s.m.deadDropped.Inc()
		s.log.Error("dead-letter file not written: record lost", "err", err)
		return
	}
	s.m.deadLetters.Inc()
}

func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }
