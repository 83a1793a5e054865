// Package push decodes and validates request bodies of Loki's push API,
// POST /loki/api/v1/push, into the embedded store's data model
// (package stream).
//
// Two body formats are understood, as Loki understands them:
//
//   - application/x-protobuf (also an empty Content-Type): a snappy
//     block-compressed protobuf push.PushRequest, as promtail, Alloy and
//     loki-client-go send it;
//   - application/json: {"streams":[{"stream":{...},"values":[[ts, line],
//     [ts, line, {metadata}]]}]}.
//
// Both are decoded by hand in one pass over the decompressed body, which
// is read into a pooled buffer: the strings of the result (lines, metadata)
// are copied out of it once, into a few large blocks per request, and
// repeated metadata names and values are shared.
//
// Validation follows Loki's distributor: label syntax, names, lengths and
// count; line length; timestamps too far in the future. Unlike Loki, which
// drops the invalid entries and answers 400 for the rest, Decode rejects the
// whole request with the first problem it finds.
package push

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// Limits bounds what one push request may carry. A zero (or negative)
// field takes its value from DefaultLimits.
type Limits struct {
	// MaxBodyBytes caps the request body, both as sent and after
	// decompression (default 16 MiB).
	MaxBodyBytes int64
	// MaxLineBytes caps one log line (default 256 KiB, Loki's max_line_size).
	MaxLineBytes int
	// MaxLabelNameLen caps a label or structured-metadata name (default 1024,
	// Loki's max_label_name_length).
	MaxLabelNameLen int
	// MaxLabelValueLen caps a stream label value (default 2048, Loki's
	// max_label_value_length).
	MaxLabelValueLen int
	// MaxLabelsPerStream caps the labels of one stream (default 15, Loki's
	// max_label_names_per_series).
	MaxLabelsPerStream int
	// CreationGracePeriod: entries newer than now+CreationGracePeriod are
	// rejected (default 10m, Loki's creation_grace_period).
	CreationGracePeriod time.Duration
}

// Defaults, as Loki's.
const (
	defaultMaxBodyBytes        = 16 << 20
	defaultMaxLineBytes        = 256 << 10
	defaultMaxLabelNameLen     = 1024
	defaultMaxLabelValueLen    = 2048
	defaultMaxLabelsPerStream  = 15
	defaultCreationGracePeriod = 10 * time.Minute
)

// DefaultLimits returns Loki's default limits: a 16 MiB body, 256 KiB
// lines, 1024-byte label names, 2048-byte label values, 15 labels per
// stream and a 10-minute creation grace period.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes:        defaultMaxBodyBytes,
		MaxLineBytes:        defaultMaxLineBytes,
		MaxLabelNameLen:     defaultMaxLabelNameLen,
		MaxLabelValueLen:    defaultMaxLabelValueLen,
		MaxLabelsPerStream:  defaultMaxLabelsPerStream,
		CreationGracePeriod: defaultCreationGracePeriod,
	}
}

// WithDefaults replaces zero and negative fields by their defaults.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = d.MaxLineBytes
	}
	if l.MaxLabelNameLen <= 0 {
		l.MaxLabelNameLen = d.MaxLabelNameLen
	}
	if l.MaxLabelValueLen <= 0 {
		l.MaxLabelValueLen = d.MaxLabelValueLen
	}
	if l.MaxLabelsPerStream <= 0 {
		l.MaxLabelsPerStream = d.MaxLabelsPerStream
	}
	if l.CreationGracePeriod <= 0 {
		l.CreationGracePeriod = d.CreationGracePeriod
	}
	return l
}

// ErrTooLarge is wrapped by the error Decode returns when the body is over
// Limits.MaxBodyBytes, as sent or once decompressed. An HTTP handler answers
// it with 413 Request Entity Too Large.
var ErrTooLarge = errors.New("request body too large")

// ValidationError is a request Loki would answer with 400 Bad Request: a
// body that cannot be decoded, or content that breaks a rule. Msg is worded
// like Loki's message for the same problem. Decode returns it as a
// *ValidationError.
type ValidationError struct {
	Msg string
}

// Error returns Msg.
func (e *ValidationError) Error() string { return e.Msg }

// invalidf returns a *ValidationError.
func invalidf(format string, args ...any) error {
	return &ValidationError{Msg: fmt.Sprintf(format, args...)}
}

// format is a body format.
type format uint8

const (
	formatProtobuf format = iota
	formatJSON
)

// encoding is a Content-Encoding.
type encoding uint8

const (
	encodingIdentity encoding = iota
	encodingGzip
	encodingDeflate
)

// Decode reads a push request body. contentType is the request's
// Content-Type; contentEncoding its Content-Encoding. Supported:
// "application/x-protobuf" (snappy block-compressed protobuf
// push.PushRequest — what promtail, Alloy and loki-client-go send),
// "application/json" (optionally Content-Encoding: gzip; an empty
// Content-Type means protobuf, as in Loki). Media-type parameters such as
// "; charset=utf-8" are ignored. Like Loki, Decode also takes
// Content-Encoding gzip or deflate around either format, and "snappy" as a
// no-op name for the protobuf body's own compression.
//
// The body is read through an io.LimitReader: more than lim.MaxBodyBytes
// (compressed or decompressed) is ErrTooLarge without reading it all.
//
// The result holds one stream per distinct label set, in order of first
// appearance; streams with the same label set are merged, entries in
// request order. Streams without entries are left out, as Loki ignores them.
// Labels and metadata are sorted by name; stream labels with an empty value
// are dropped, as Loki drops them. An empty request yields no streams.
//
// now is the time against which lim.CreationGracePeriod is measured.
//
// The result does not refer to r's memory. Its strings share blocks of up
// to 256 KiB, so keeping one line of a request keeps its block alive: a
// store that keeps lines for long should copy them.
//
// The error is nil, wraps ErrTooLarge, is a *ValidationError, or is an
// error of r itself (wrapped).
func Decode(r io.Reader, contentType, contentEncoding string, lim Limits, now time.Time) ([]stream.Stream, error) {
	lim = lim.WithDefaults()
	f, err := parseContentType(contentType)
	if err != nil {
		return nil, err
	}
	enc, err := parseContentEncoding(contentEncoding, f)
	if err != nil {
		return nil, err
	}

	bodyBuf := getBuffer()
	defer putBuffer(bodyBuf)
	body, err := readBody(r, enc, lim.MaxBodyBytes, bodyBuf)
	if err != nil {
		return nil, err
	}

	if f == formatJSON {
		b := newBuilder(lim, now, len(body))
		if err := decodeJSON(b, body); err != nil {
			return nil, err
		}
		return b.result(), nil
	}

	rawBuf := getBuffer()
	defer putBuffer(rawBuf)
	raw, err := decodeSnappy(body, lim.MaxBodyBytes, rawBuf)
	if err != nil {
		return nil, err
	}
	b := newBuilder(lim, now, len(raw))
	if err := decodeProtobuf(b, raw); err != nil {
		return nil, err
	}
	return b.result(), nil
}

// parseContentType maps a Content-Type to a body format.
func parseContentType(contentType string) (format, error) {
	switch contentType {
	case "", "application/x-protobuf":
		return formatProtobuf, nil
	case "application/json":
		return formatJSON, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, invalidf("invalid Content-Type %q: %v", contentType, err)
	}
	switch mt {
	case "application/x-protobuf":
		return formatProtobuf, nil
	case "application/json":
		return formatJSON, nil
	}
	return 0, invalidf("unsupported Content-Type %q: want application/x-protobuf or application/json", contentType)
}

// parseContentEncoding maps a Content-Encoding to a decompression.
func parseContentEncoding(contentEncoding string, f format) (encoding, error) {
	switch strings.ToLower(strings.TrimSpace(contentEncoding)) {
	case "", "identity":
		return encodingIdentity, nil
	case "gzip", "x-gzip":
		return encodingGzip, nil
	case "deflate":
		return encodingDeflate, nil
	case "snappy":
		// Loki accepts the name for its protobuf body, which is snappy
		// compressed anyway.
		if f == formatProtobuf {
			return encodingIdentity, nil
		}
	}
	return 0, invalidf("Content-Encoding %q not supported", contentEncoding)
}

// Read buffers are pooled: the result's strings are copied out of them.
var bufferPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBuffer is the largest buffer kept for reuse.
const maxPooledBuffer = 4 << 20

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(p *[]byte) {
	if cap(*p) > maxPooledBuffer {
		*p = nil
	}
	*p = (*p)[:0]
	bufferPool.Put(p)
}

// errRecorder remembers the first error of its reader other than io.EOF,
// to tell a failing client connection from a corrupt compressed body.
type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// readBody reads the body, decompressed per enc, into *buf (grown as
// needed), reading at most max+1 bytes of r and producing at most max+1
// bytes before giving up with ErrTooLarge.
func readBody(r io.Reader, enc encoding, max int64, buf *[]byte) ([]byte, error) {
	rec := &errRecorder{r: r}
	sent := &io.LimitedReader{R: rec, N: max + 1}
	tooLarge := func(what string) error {
		return fmt.Errorf("%w: more than %d bytes %s", ErrTooLarge, max, what)
	}
	if enc == encodingIdentity {
		b, err := readAll(sent, max, buf)
		if rec.err != nil {
			return nil, fmt.Errorf("reading request body: %w", rec.err)
		}
		if err != nil {
			return nil, tooLarge("sent")
		}
		return b, nil
	}

	var (
		dec io.Reader
		err error
	)
	switch enc {
	case encodingGzip:
		dec, err = gzip.NewReader(sent)
	case encodingDeflate:
		fr := flate.NewReader(sent)
		defer fr.Close()
		dec = fr
	}
	var b []byte
	if err == nil {
		b, err = readAll(&io.LimitedReader{R: dec, N: max + 1}, max, buf)
	}
	switch {
	case rec.err != nil:
		return nil, fmt.Errorf("reading request body: %w", rec.err)
	case sent.N <= 0:
		return nil, tooLarge("sent")
	case errors.Is(err, errOverLimit):
		return nil, tooLarge("decompressed")
	case err != nil:
		return nil, invalidf("decompressing request body: %v", err)
	}
	return b, nil
}

// errOverLimit is readAll's answer to a reader that yields more than max
// bytes.
var errOverLimit = errors.New("over limit")

// readAll reads r (a reader limited to max+1 bytes) to its end into *buf,
// growing it as needed; more than max bytes is errOverLimit.
func readAll(r io.Reader, max int64, buf *[]byte) ([]byte, error) {
	b := (*buf)[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, 64<<10)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		*buf = b
		if int64(len(b)) > max {
			return nil, errOverLimit
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// decodeSnappy decompresses a snappy block into *buf (grown as needed),
// refusing one that says it is larger than max before decoding it.
func decodeSnappy(src []byte, max int64, buf *[]byte) ([]byte, error) {
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return nil, invalidf("decompressing snappy body: %v", err)
	}
	if int64(n) > max {
		return nil, fmt.Errorf("%w: more than %d bytes decompressed (%d)", ErrTooLarge, max, n)
	}
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	dst, err := snappy.Decode((*buf)[:cap(*buf)], src)
	if err != nil {
		return nil, invalidf("decompressing snappy body: %v", err)
	}
	return dst, nil
}

// isSpace reports whether c is white space in JSON and in label strings.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
