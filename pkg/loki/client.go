package loki

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	defaultTimeout          = 30 * time.Second
	defaultUserAgent        = "activity-audit"
	defaultMaxResponseBytes = 64 << 20
	// maxErrorBodyBytes bounds how much of a non-2xx body is kept as message.
	maxErrorBodyBytes = 64 << 10

	headerTenant        = "X-Scope-OrgID"
	headerEncodingFlags = "X-Loki-Response-Encoding-Flags"
)

// Config configures a Client.
type Config struct {
	// URL is Loki's base URL, e.g. http://127.0.0.1:3100. A path prefix
	// (http://gw/loki-proxy) is kept in front of every API path.
	URL string
	// Tenant is sent as X-Scope-OrgID when set.
	Tenant string
	// Username and Password are sent as basic auth when Username is set.
	Username, Password string
	// BearerToken is sent as "Authorization: Bearer <token>" when set. It
	// excludes basic auth.
	BearerToken string
	// Timeout bounds each request, reading the answer included; 0 means 30s.
	Timeout time.Duration
	// HTTPClient is used for requests when set (TLS, proxies, ...).
	HTTPClient *http.Client
	// UserAgent is sent as User-Agent; default "activity-audit".
	UserAgent string
	// MaxResponseBytes caps the size of an answer; 0 means 64 MiB. A bigger
	// answer fails with ErrResponseTooLarge.
	MaxResponseBytes int64
}

// Client queries Loki's HTTP API. It is safe for concurrent use.
type Client struct {
	basePath    string // unescaped path prefix, no trailing slash
	baseRawPath string // escaped path prefix, no trailing slash
	base        url.URL
	hc          *http.Client
	timeout     time.Duration
	maxBody     int64
	tenant      string
	username    string
	password    string
	bearer      string
	userAgent   string
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse loki url: %w", err)
	}
	if cfg.Username == "" && cfg.Password != "" {
		return nil, errors.New("configure loki auth: password set without username")
	}
	if cfg.Username != "" && cfg.BearerToken != "" {
		return nil, errors.New("configure loki auth: basic auth and bearer token are mutually exclusive")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("configure loki client: negative timeout %s", cfg.Timeout)
	}
	if cfg.MaxResponseBytes < 0 {
		return nil, fmt.Errorf("configure loki client: negative max response bytes %d", cfg.MaxResponseBytes)
	}
	c := &Client{
		basePath:    strings.TrimSuffix(base.Path, "/"),
		baseRawPath: strings.TrimSuffix(base.EscapedPath(), "/"),
		base:        *base,
		hc:          cfg.HTTPClient,
		timeout:     cfg.Timeout,
		maxBody:     cfg.MaxResponseBytes,
		tenant:      cfg.Tenant,
		username:    cfg.Username,
		password:    cfg.Password,
		bearer:      cfg.BearerToken,
		userAgent:   cfg.UserAgent,
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.timeout == 0 {
		c.timeout = defaultTimeout
	}
	if c.maxBody == 0 {
		c.maxBody = defaultMaxResponseBytes
	}
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	return c, nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("url has no host")
	case u.User != nil:
		return nil, errors.New("url must not hold credentials; set Username/Password or BearerToken")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("url must not have a query or fragment")
	}
	return u, nil
}

// endpoint is an API path below the base URL, unescaped and escaped.
type endpoint struct {
	path, rawPath string
}

func staticEndpoint(path string) endpoint { return endpoint{path: path, rawPath: path} }

var (
	endpointQueryRange = staticEndpoint("/loki/api/v1/query_range")
	endpointQuery      = staticEndpoint("/loki/api/v1/query")
	endpointLabels     = staticEndpoint("/loki/api/v1/labels")
	endpointSeries     = staticEndpoint("/loki/api/v1/series")
	endpointReady      = staticEndpoint("/ready")
)

func labelValuesEndpoint(name string) endpoint {
	return endpoint{
		path:    "/loki/api/v1/label/" + name + "/values",
		rawPath: "/loki/api/v1/label/" + url.PathEscape(name) + "/values",
	}
}

func (c *Client) url(ep endpoint, params url.Values) string {
	u := c.base
	u.Path = c.basePath + ep.path
	u.RawPath = c.baseRawPath + ep.rawPath
	u.RawQuery = params.Encode()
	return u.String()
}

// get sends a GET request and passes the body of a 2xx answer to read,
// which must not keep it: the buffer is reused. It returns the status
// code; a non-2xx answer is returned as *Error.
func (c *Client) get(ctx context.Context, ep endpoint, params url.Values, header http.Header, read func(body []byte) error) (int, error) {
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, c.url(ep, params), nil)
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	c.setHeaders(req)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("send request: %w", c.contextError(ctx, reqCtx, err))
	}
	defer closeBody(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
		return resp.StatusCode, &Error{StatusCode: resp.StatusCode, Message: errorMessage(body)}
	}
	buf := getBuffer()
	defer putBuffer(buf)
	*buf, err = readBody(resp, c.maxBody, (*buf)[:0])
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read response body: %w", c.contextError(ctx, reqCtx, err))
	}
	if read == nil {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, read(*buf)
}

func (c *Client) setHeaders(req *http.Request) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.tenant != "" {
		req.Header.Set(headerTenant, c.tenant)
	}
	switch {
	case c.username != "":
		req.SetBasicAuth(c.username, c.password)
	case c.bearer != "":
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
}

// contextError makes sure a failure caused by the caller's context or by
// the per-request timeout carries the context error (for errors.Is).
func (c *Client) contextError(parent, reqCtx context.Context, err error) error {
	cerr := reqCtx.Err()
	if cerr == nil {
		return err
	}
	if !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	if parent.Err() == nil && errors.Is(cerr, context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", c.timeout, err)
	}
	return err
}

// readBody reads a 2xx body into buf, failing with ErrResponseTooLarge
// beyond limit.
func readBody(resp *http.Response, limit int64, buf []byte) ([]byte, error) {
	if resp.ContentLength > limit {
		return buf, fmt.Errorf("%w: %d bytes, limit %d", ErrResponseTooLarge, resp.ContentLength, limit)
	}
	if n := resp.ContentLength + 1; n > int64(cap(buf)) { // + 1 to see the end without growing
		buf = make([]byte, 0, n)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		end := cap(buf)
		if int64(end) > limit {
			end = int(limit) + 1
		}
		n, err := resp.Body.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Answers are read into pooled buffers; those grown past maxPooledBuffer
// are left to the garbage collector.
const maxPooledBuffer = 4 << 20

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBuffer {
		buffers.Put(b)
	}
}

// closeBody drains a little of what is left, so that the connection can be
// reused, and closes the body.
func closeBody(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 4<<10))
	_ = body.Close()
}
