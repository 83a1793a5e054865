package kubeaudit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// shutdownTimeout bounds waiting for in-flight webhook requests at shutdown.
	shutdownTimeout = 10 * time.Second
	// maxPooledBuf is the largest body buffer kept for reuse.
	maxPooledBuf = 1 << 20
)

// Webhook receives the API server's audit webhook: HTTPS POSTs of
// audit.k8s.io/v1 EventLists, authenticated by bearer token and/or client
// certificate. It answers 200 once the batch's records are with the sink,
// 400 for a malformed body, 401 unauthenticated, 405 for other methods,
// 413 for a body over Config.MaxBodyBytes, 500 when the sink fails (the
// API server then retries the batch).
type Webhook struct {
	cfg Config
	p   *Processor
	log *slog.Logger
	tls *tls.Config
	// The credentials a request needs: the bearer token (its sha256) when
	// hasToken, a certificate chaining to clientCAs when not nil.
	token     [sha256.Size]byte
	hasToken  bool
	clientCAs *x509.CertPool
	bufs      sync.Pool // *bytes.Buffer for bodies
}

// NewWebhook makes the webhook of cfg (WebhookAddr, TLSCert, TLSKey,
// TokenFile and/or ClientCA, MaxBodyBytes) feeding p. It reads the
// certificate, key, token and CA now, so a bad file fails at start.
func NewWebhook(cfg Config, p *Processor) (*Webhook, error) {
	cfg = cfg.withDefaults()
	if p == nil {
		return nil, errors.New("configure audit webhook: no processor")
	}
	if err := cfg.validateWebhook(); err != nil {
		return nil, fmt.Errorf("configure audit webhook: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load audit webhook certificate: %w", err)
	}
	w := &Webhook{cfg: cfg, p: p, log: cfg.Logger}
	w.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if cfg.TokenFile != "" {
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("read audit webhook token: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return nil, fmt.Errorf("read audit webhook token: %s is empty", cfg.TokenFile)
		}
		w.token, w.hasToken = sha256.Sum256([]byte(tok)), true
	}
	if cfg.ClientCA != "" {
		b, err := os.ReadFile(cfg.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("read audit webhook client CA: %w", err)
		}
		w.clientCAs = x509.NewCertPool()
		if !w.clientCAs.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("read audit webhook client CA: no PEM certificate in %s", cfg.ClientCA)
		}
		// Certificates are asked for in the handshake and verified per
		// request, so that a missing or bad one gets a counted 401 rather
		// than a bare handshake error.
		w.tls.ClientAuth = tls.RequestClientCert
	}
	return w, nil
}

// Run listens on cfg.WebhookAddr and serves until ctx is done.
func (w *Webhook) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", w.cfg.WebhookAddr)
	if err != nil {
		return fmt.Errorf("listen for audit webhook: %w", err)
	}
	return w.Serve(ctx, ln)
}

// Serve serves HTTPS on ln until ctx is done, then waits (boundedly) for the
// requests in flight. It closes ln.
func (w *Webhook) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           w.Handler(),
		TLSConfig:         w.tls.Clone(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(w.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve audit webhook: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down audit webhook: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve audit webhook: %w", err)
	}
	return nil
}

// Handler is the webhook's HTTP handler (every path). It expects a TLS
// connection for client certificates.
func (w *Webhook) Handler() http.Handler { return http.HandlerFunc(w.serveHTTP) }

func (w *Webhook) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	if err := w.authenticate(r); err != nil {
		w.p.m.unauthenticated.Inc()
		rw.Header().Set("WWW-Authenticate", `Bearer realm="activityaudit"`)
		w.reply(rw, http.StatusUnauthorized, "unauthenticated: "+err.Error())
		return
	}
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		w.reply(rw, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: POST an "+apiVersion+" "+kindEventList)
		return
	}
	buf := w.getBuf()
	defer w.putBuf(buf)
	if _, err := buf.ReadFrom(http.MaxBytesReader(rw, r.Body, w.cfg.MaxBodyBytes)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			w.p.m.malformed.WithLabelValues(string(ViaWebhook), ReasonTooLarge).Inc()
			w.reply(rw, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", w.cfg.MaxBodyBytes))
			return
		}
		w.reply(rw, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	batch, err := DecodeEventList(buf.Bytes())
	if err != nil {
		w.p.m.malformed.WithLabelValues(string(ViaWebhook), reasonOf(err)).Inc()
		w.reply(rw, http.StatusBadRequest, "malformed audit body: "+err.Error())
		return
	}
	for reason, n := range batch.Skipped {
		w.p.m.malformed.WithLabelValues(string(ViaWebhook), reason).Add(float64(n))
	}
	skipped := batch.SkippedTotal()
	if len(batch.Events) == 0 && skipped > 0 {
		w.reply(rw, http.StatusBadRequest, fmt.Sprintf("malformed audit body: all %d items are malformed: %s", skipped, summarize(batch.Errors, skipped)))
		return
	}
	if err := w.p.Process(r.Context(), ViaWebhook, batch.Events); err != nil {
		w.log.Warn("audit webhook: batch not stored (the API server retries it)", "err", err)
		w.reply(rw, http.StatusInternalServerError, "store audit events: "+err.Error())
		return
	}
	msg := fmt.Sprintf("accepted %d events", len(batch.Events))
	if skipped > 0 {
		msg += fmt.Sprintf("; skipped %d malformed: %s", skipped, summarize(batch.Errors, skipped))
	}
	w.reply(rw, http.StatusOK, msg)
}

// authenticate checks the credentials cfg requires.
func (w *Webhook) authenticate(r *http.Request) error {
	if w.hasToken {
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return errors.New("no bearer token")
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if subtle.ConstantTimeCompare(sum[:], w.token[:]) != 1 {
			return errors.New("wrong bearer token")
		}
	}
	if w.clientCAs != nil {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return errors.New("no client certificate")
		}
		certs := r.TLS.PeerCertificates
		opts := x509.VerifyOptions{
			Roots:         w.clientCAs,
			Intermediates: x509.NewCertPool(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		for _, c := range certs[1:] {
			opts.Intermediates.AddCert(c)
		}
		if _, err := certs[0].Verify(opts); err != nil {
			return fmt.Errorf("client certificate not trusted: %w", err)
		}
	}
	return nil
}

func (w *Webhook) reply(rw http.ResponseWriter, code int, msg string) {
	w.p.m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(code)
	io.WriteString(rw, msg+"\n")
}

func (w *Webhook) getBuf() *bytes.Buffer {
	if b, ok := w.bufs.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

// putBuf keeps buf for reuse unless a large body grew it.
func (w *Webhook) putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuf {
		w.bufs.Put(b)
	}
}

// summarize joins the first few of total item errors.
func summarize(errs []error, total int) string {
	const show = 3
	var b strings.Builder
	for i, err := range errs[:min(show, len(errs))] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	if total > show {
		fmt.Fprintf(&b, "; and %d more", total-show)
	}
	return b.String()
}
