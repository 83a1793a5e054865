package cli

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"

	lokiclient "github.com/grafana/loki-client-go/loki"
	promconfig "github.com/prometheus/common/config"

	"github.com/activityaudit/activityaudit/pkg/loki"
)

// defaultQueryURL is where the query commands look when --loki-url is not
// set: the embedded store's default listen address.
const defaultQueryURL = "http://127.0.0.1:3100"

// userAgent is sent on every request to Loki.
const userAgent = "activity-audit-collector"

// connFlags are the Loki connection flags every subcommand shares. They
// fill loki-client-go's Config, the configuration Loki's own clients use;
// the query client is made from the same settings.
type connFlags struct {
	cfg lokiclient.Config

	url             string
	username        string
	passwordFile    string
	bearerTokenFile string
	caFile          string
	certFile        string
	keyFile         string
	serverName      string
	insecure        bool
}

// register adds the connection flags to fs. push adds the flags that only
// shipping uses (batching, backoff, external labels).
func (c *connFlags) register(fs *flag.FlagSet, push bool) {
	fs.StringVar(&c.url, "loki-url", "", "Loki base URL, e.g. http://loki:3100 (query commands: default "+defaultQueryURL+")")
	fs.StringVar(&c.cfg.TenantID, "loki-tenant", "", "tenant sent as X-Scope-OrgID (multi-tenant Loki)")
	fs.StringVar(&c.username, "loki-username", "", "basic auth user")
	fs.StringVar(&c.passwordFile, "loki-password-file", "", "file holding the basic auth password (env LOKI_PASSWORD also works)")
	fs.StringVar(&c.bearerTokenFile, "loki-bearer-token-file", "", "file holding a bearer token")
	fs.StringVar(&c.caFile, "loki-ca-file", "", "CA certificate(s) to verify Loki's TLS certificate")
	fs.StringVar(&c.certFile, "loki-cert-file", "", "client certificate for mutual TLS")
	fs.StringVar(&c.keyFile, "loki-key-file", "", "client key for mutual TLS")
	fs.StringVar(&c.serverName, "loki-server-name", "", "server name to verify in Loki's certificate")
	fs.BoolVar(&c.insecure, "loki-insecure-skip-verify", false, "do not verify Loki's TLS certificate (testing only)")
	fs.DurationVar(&c.cfg.Timeout, "loki-timeout", lokiclient.Timeout, "timeout of one request to Loki")
	if !push {
		return
	}
	fs.DurationVar(&c.cfg.BatchWait, "batch-wait", lokiclient.BatchWait, "longest a record waits before its batch is pushed")
	fs.IntVar(&c.cfg.BatchSize, "batch-size-bytes", lokiclient.BatchSize, "push a batch once it holds this many bytes")
	fs.DurationVar(&c.cfg.BackoffConfig.MinBackoff, "min-backoff", lokiclient.MinBackoff, "first wait before retrying a failed push")
	fs.DurationVar(&c.cfg.BackoffConfig.MaxBackoff, "max-backoff", 30*1e9, "longest wait between retries of a failed push (retries never stop: the spool holds the records)")
	fs.Var(&c.cfg.ExternalLabels, "external-labels", "labels added to every stream, e.g. env=prod,region=eu (not record fields)")
}

// validate completes and checks the configuration. defaultURL is used when
// --loki-url is empty ("" leaves it empty: the caller runs embedded).
func (c *connFlags) validate(defaultURL string) error {
	u := c.url
	if u == "" {
		u = defaultURL
	}
	if u != "" {
		if err := c.cfg.URL.Set(u); err != nil {
			return usageError("invalid --loki-url %q: %v", u, err)
		}
		if c.cfg.URL.URL.Scheme != "http" && c.cfg.URL.URL.Scheme != "https" {
			return usageError("invalid --loki-url %q: want http:// or https://", u)
		}
	}
	hc := promconfig.HTTPClientConfig{
		TLSConfig: promconfig.TLSConfig{
			CAFile:             c.caFile,
			CertFile:           c.certFile,
			KeyFile:            c.keyFile,
			ServerName:         c.serverName,
			InsecureSkipVerify: c.insecure,
		},
	}
	password := os.Getenv("LOKI_PASSWORD")
	if c.passwordFile != "" {
		b, err := os.ReadFile(c.passwordFile)
		if err != nil {
			return fmt.Errorf("read loki password: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	if c.username != "" {
		hc.BasicAuth = &promconfig.BasicAuth{Username: c.username, Password: promconfig.Secret(password)}
	} else if c.passwordFile != "" {
		return usageError("--loki-password-file needs --loki-username")
	}
	if c.bearerTokenFile != "" {
		if c.username != "" {
			return usageError("--loki-username and --loki-bearer-token-file exclude each other")
		}
		hc.BearerTokenFile = c.bearerTokenFile
	}
	if (c.certFile == "") != (c.keyFile == "") {
		return usageError("--loki-cert-file and --loki-key-file go together")
	}
	if err := hc.Validate(); err != nil {
		return usageError("invalid Loki connection settings: %v", err)
	}
	if c.cfg.Timeout <= 0 {
		c.cfg.Timeout = lokiclient.Timeout
	}
	c.cfg.Client = hc
	c.cfg.BackoffConfig.MaxRetries = 0 // the spool keeps records until delivered
	return nil
}

// set reports whether --loki-url (or its config/env equivalent) was given.
func (c *connFlags) set() bool { return c.url != "" }

// httpClient is an HTTP client with the TLS and auth settings.
func (c *connFlags) httpClient() (*http.Client, error) {
	hc, err := promconfig.NewClientFromConfig(c.cfg.Client, "activityaudit")
	if err != nil {
		return nil, fmt.Errorf("make loki http client: %w", err)
	}
	return hc, nil
}

// queryClient is a Loki query client for the query commands. It calls
// validate with the embedded store's address as the default URL.
func (c *connFlags) queryClient() (*loki.Client, error) {
	if err := c.validate(defaultQueryURL); err != nil {
		return nil, err
	}
	hc, err := c.httpClient()
	if err != nil {
		return nil, err
	}
	if c.cfg.URL.URL == nil {
		return nil, errors.New("no loki url")
	}
	return loki.New(loki.Config{
		URL:        c.cfg.URL.String(),
		Tenant:     c.cfg.TenantID,
		Timeout:    c.cfg.Timeout,
		HTTPClient: hc,
		UserAgent:  userAgent,
	})
}
