package kubeaudit

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// Capture is kube exec capture as `collector run` starts it: the webhook
// (when Config.WebhookAddr is set) and the log tailer (when Config.LogPath
// is set) feeding one Processor.
type Capture struct {
	Processor *Processor
	Webhook   *Webhook   // nil when not configured
	LogTailer *LogTailer // nil when not configured
}

// New makes the capture cfg describes. It fails when neither input is
// configured, or a file it needs (certificate, key, token, CA) is unusable.
func New(cfg Config, sink Sink, scoper Scoper, reg prometheus.Registerer) (*Capture, error) {
	if cfg.WebhookAddr == "" && cfg.LogPath == "" {
		return nil, errors.New("configure kube exec capture: neither a webhook address (--audit-webhook) nor an audit log (--audit-log)")
	}
	p, err := NewProcessor(cfg, sink, scoper, reg)
	if err != nil {
		return nil, err
	}
	c := &Capture{Processor: p}
	if cfg.WebhookAddr != "" {
		if c.Webhook, err = NewWebhook(cfg, p); err != nil {
			return nil, err
		}
	}
	if cfg.LogPath != "" {
		if c.LogTailer, err = NewLogTailer(cfg, p); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Run runs the inputs until ctx is done or one fails; then, once they have
// stopped, it emits the execs still held (without end_time) and returns.
func (c *Capture) Run(ctx context.Context) error {
	pctx, stopProcessor := context.WithCancel(context.WithoutCancel(ctx))
	defer stopProcessor()
	perr := make(chan error, 1)
	go func() { perr <- c.Processor.Run(pctx) }()

	g, gctx := errgroup.WithContext(ctx)
	if c.Webhook != nil {
		g.Go(func() error { return c.Webhook.Run(gctx) })
	}
	if c.LogTailer != nil {
		g.Go(func() error { return c.LogTailer.Run(gctx) })
	}
	err := g.Wait()
	stopProcessor()
	return errors.Join(err, <-perr)
}
