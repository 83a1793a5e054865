package kubeaudit

import (
	"errors"
	"log/slog"
	"time"
)

// Defaults of Config's zero fields.
const (
	DefaultHold          = 5 * time.Second
	DefaultMaxBodyBytes  = 10 << 20
	DefaultMaxPending    = 10_000
	DefaultMaxRemembered = 100_000
	DefaultRemember      = 10 * time.Minute
	DefaultRememberOpen  = 24 * time.Hour
	DefaultPollInterval  = 250 * time.Millisecond
)

// Config configures kube exec capture. The first fields map one to one to
// `collector run` flags (--audit-webhook, --audit-tls-cert, --audit-tls-key,
// --audit-token-file, --audit-client-ca, --audit-log, --audit-hold); a zero
// limit takes its default.
type Config struct {
	// WebhookAddr is where the audit webhook listens (host:port); empty: no
	// webhook.
	WebhookAddr string
	// TLSCert and TLSKey are the webhook's serving certificate and key (PEM
	// files); required with WebhookAddr: the webhook serves HTTPS only.
	TLSCert, TLSKey string
	// TokenFile holds the bearer token the API server sends (its webhook
	// kubeconfig's users[].user.token); compared in constant time.
	TokenFile string
	// ClientCA is a PEM bundle the API server's client certificate (its
	// webhook kubeconfig's client-certificate) must chain to. At least one of
	// TokenFile and ClientCA is required; with both, a request needs both.
	ClientCA string
	// LogPath is the API server's audit log (--audit-log-path, JSON format);
	// empty: no log tailer.
	LogPath string
	// StateDir is where the log tailer keeps its position; required with
	// LogPath.
	StateDir string
	// Hold is how long a started exec waits for its ResponseComplete before it
	// is emitted without end_time (default 5s).
	Hold time.Duration
	// Cluster is put on every record.
	Cluster string

	// MaxBodyBytes bounds a webhook body and a log line (default 10 MiB).
	MaxBodyBytes int64
	// MaxPending bounds the held (started, not ended) execs; past it the
	// oldest is emitted early, without end_time (default 10000).
	MaxPending int
	// MaxRemembered bounds the emitted auditIDs remembered to drop
	// redeliveries and to recognise late ends; past it the oldest ended ones
	// are forgotten first (default 100000).
	MaxRemembered int
	// Remember is how long an ended auditID is remembered, so a redelivered
	// batch (the API server retries for about a minute) is dropped (default
	// 10m).
	Remember time.Duration
	// RememberOpen is how long an auditID emitted without its end is
	// remembered, so its ResponseComplete counts as a late end and does not
	// make a second record (default 24h: the longest exec session expected).
	RememberOpen time.Duration
	// PollInterval is how often the log tailer looks for new lines and
	// rotation (default 250ms).
	PollInterval time.Duration

	// Logger receives warnings (default: discarded).
	Logger *slog.Logger
}

// withDefaults returns c with its zero limits set.
func (c Config) withDefaults() Config {
	if c.Hold <= 0 {
		c.Hold = DefaultHold
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.MaxRemembered <= 0 {
		c.MaxRemembered = DefaultMaxRemembered
	}
	if c.Remember <= 0 {
		c.Remember = DefaultRemember
	}
	if c.RememberOpen <= 0 {
		c.RememberOpen = DefaultRememberOpen
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// validateWebhook checks the webhook's part of the configuration.
func (c Config) validateWebhook() error {
	var errs []error
	if c.WebhookAddr == "" {
		errs = append(errs, errors.New("no listen address (--audit-webhook)"))
	}
	if c.TLSCert == "" || c.TLSKey == "" {
		errs = append(errs, errors.New("the webhook serves HTTPS only: set its certificate and key (--audit-tls-cert, --audit-tls-key)"))
	}
	if c.TokenFile == "" && c.ClientCA == "" {
		errs = append(errs, errors.New("the webhook needs authentication: set a token file (--audit-token-file) and/or a client CA (--audit-client-ca)"))
	}
	return errors.Join(errs...)
}
