package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/trace"
)

// Error kinds, the "kind" of an error answer.
const (
	KindFilter   = "filter"    // 400: the filter is invalid; offset, column and suggestion say where
	KindParam    = "param"     // 400: a parameter is invalid; param names it
	KindNotFound = "not_found" // 404
	KindLoki     = "loki"      // 502: Loki failed or is unreachable; loki_status when it answered
	KindTimeout  = "timeout"   // 504: the request took longer than the app's query timeout
	KindInternal = "internal"  // 500
)

// ErrorBody is the JSON of an error answer. Grafana's frontend shows
// "message".
type ErrorBody struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Param is the parameter at fault (KindParam).
	Param string `json:"param,omitempty"`
	// Offset (bytes, 0-based) and Column (characters, 1-based) of the
	// problem in the filter text; Suggestion is the closest attribute for
	// an unknown one (KindFilter).
	Offset     *int   `json:"offset,omitempty"`
	Column     int    `json:"column,omitempty"`
	Suggestion string `json:"suggestion,omitempty"`
	// LokiStatus is the HTTP status Loki answered (KindLoki).
	LokiStatus int `json:"loki_status,omitempty"`
}

// paramError is an invalid query parameter.
type paramError struct {
	param string
	msg   string
}

func (e *paramError) Error() string { return e.param + ": " + e.msg }

func badParam(param, format string, args ...any) error {
	return &paramError{param: param, msg: fmt.Sprintf(format, args...)}
}

type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &notFoundError{fmt.Sprintf(format, args...)}
}

type timeoutError struct {
	after time.Duration
	err   error
}

func (e timeoutError) Error() string {
	return fmt.Sprintf("the query took longer than %s: narrow the time range or the filter (%v)", e.after, e.err)
}
func (e timeoutError) Unwrap() error { return e.err }

// writeError answers err and returns the status and kind it chose.
func writeError(w http.ResponseWriter, err error) (int, string) {
	status, body := errorBody(err)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
	return status, body.Kind
}

func errorBody(err error) (int, ErrorBody) {
	var (
		fe  *filter.Error
		pe  *paramError
		nf  *notFoundError
		te  timeoutError
		le  *loki.Error
		ue  *upstreamError
		msg = err.Error()
	)
	switch {
	case errors.As(err, &fe):
		off := fe.Offset
		return http.StatusBadRequest, ErrorBody{Kind: KindFilter, Message: fe.Error(), Param: "filter", Offset: &off, Column: fe.Column, Suggestion: fe.Suggestion}
	case errors.As(err, &pe):
		return http.StatusBadRequest, ErrorBody{Kind: KindParam, Message: msg, Param: pe.param}
	case errors.Is(err, logql.ErrRange):
		return http.StatusBadRequest, ErrorBody{Kind: KindParam, Message: "from: " + msg, Param: "from"}
	case errors.As(err, &nf), errors.Is(err, trace.ErrNotFound):
		return http.StatusNotFound, ErrorBody{Kind: KindNotFound, Message: msg}
	case errors.As(err, &te), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, ErrorBody{Kind: KindTimeout, Message: msg}
	case errors.As(err, &le):
		m := fmt.Sprintf("Loki answered %d %s", le.StatusCode, http.StatusText(le.StatusCode))
		if le.Message != "" {
			m += ": " + le.Message
		}
		return http.StatusBadGateway, ErrorBody{Kind: KindLoki, Message: m, LokiStatus: le.StatusCode}
	case errors.As(err, &ue):
		return http.StatusBadGateway, ErrorBody{Kind: KindLoki, Message: "Loki failed: " + msg}
	}
	return http.StatusInternalServerError, ErrorBody{Kind: KindInternal, Message: msg}
}
