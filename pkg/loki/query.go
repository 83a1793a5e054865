package loki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// RangeQuery is a query over a time range (/loki/api/v1/query_range).
type RangeQuery struct {
	// Query is the LogQL query.
	Query string
	// Start (inclusive) and End (exclusive); a zero time is not sent.
	Start, End time.Time
	// Limit is the maximum number of entries; sent only when > 0.
	Limit int
	// Direction of a log query; sent only when set.
	Direction Direction
	// Step is the resolution of a metric query; sent only when > 0, as
	// seconds (fractional allowed).
	Step time.Duration
	// Categorize asks for the "categorize-labels" answer form (header
	// X-Loki-Response-Encoding-Flags: categorize-labels).
	Categorize bool
}

// InstantQuery is a query at one instant (/loki/api/v1/query).
type InstantQuery struct {
	// Query is the LogQL (metric) query.
	Query string
	// Time is the evaluation time; a zero time is not sent (Loki uses now).
	Time time.Time
	// Limit is sent only when > 0.
	Limit int
	// Direction is sent only when set.
	Direction Direction
}

// QueryRange runs a range query: GET /loki/api/v1/query_range.
func (c *Client) QueryRange(ctx context.Context, q RangeQuery) (*QueryResponse, error) {
	params, header, err := q.request()
	if err != nil {
		return nil, err
	}
	resp, err := c.query(ctx, endpointQueryRange, params, header)
	if err != nil {
		return nil, fmt.Errorf("query loki: %w", err)
	}
	return resp, nil
}

// request is q's query parameters and headers.
func (q RangeQuery) request() (url.Values, http.Header, error) {
	if q.Query == "" {
		return nil, nil, errors.New("query loki: empty query")
	}
	params := url.Values{"query": {q.Query}}
	setTime(params, "start", q.Start)
	setTime(params, "end", q.End)
	setLimitDirection(params, q.Limit, q.Direction)
	if q.Step > 0 {
		params.Set("step", strconv.FormatFloat(q.Step.Seconds(), 'f', -1, 64))
	}
	var header http.Header
	if q.Categorize {
		header = http.Header{headerEncodingFlags: {EncodingFlagCategorizeLabels}}
	}
	return params, header, nil
}

// Query runs an instant query: GET /loki/api/v1/query.
func (c *Client) Query(ctx context.Context, q InstantQuery) (*QueryResponse, error) {
	if q.Query == "" {
		return nil, errors.New("query loki: empty query")
	}
	params := url.Values{"query": {q.Query}}
	setTime(params, "time", q.Time)
	setLimitDirection(params, q.Limit, q.Direction)
	resp, err := c.query(ctx, endpointQuery, params, nil)
	if err != nil {
		return nil, fmt.Errorf("query loki: %w", err)
	}
	return resp, nil
}

// Labels lists label names seen between start and end (zero times are not
// sent): GET /loki/api/v1/labels.
func (c *Client) Labels(ctx context.Context, start, end time.Time) ([]string, error) {
	params := url.Values{}
	setTime(params, "start", start)
	setTime(params, "end", end)
	names, err := getData[[]string](ctx, c, endpointLabels, params)
	if err != nil {
		return nil, fmt.Errorf("list labels: %w", err)
	}
	return names, nil
}

// LabelValues lists the values of label name between start and end,
// optionally restricted to the streams matching query:
// GET /loki/api/v1/label/<name>/values.
func (c *Client) LabelValues(ctx context.Context, name, query string, start, end time.Time) ([]string, error) {
	if name == "" {
		return nil, errors.New("list label values: empty label name")
	}
	params := url.Values{}
	setTime(params, "start", start)
	setTime(params, "end", end)
	if query != "" {
		params.Set("query", query)
	}
	values, err := getData[[]string](ctx, c, labelValuesEndpoint(name), params)
	if err != nil {
		return nil, fmt.Errorf("list label values: %w", err)
	}
	return values, nil
}

// Series lists the label sets of the streams matching any of the match
// selectors between start and end: GET /loki/api/v1/series.
func (c *Client) Series(ctx context.Context, match []string, start, end time.Time) ([]map[string]string, error) {
	if len(match) == 0 {
		return nil, errors.New("list series: no match selector")
	}
	params := url.Values{"match[]": match}
	setTime(params, "start", start)
	setTime(params, "end", end)
	series, err := getData[[]map[string]string](ctx, c, endpointSeries, params)
	if err != nil {
		return nil, fmt.Errorf("list series: %w", err)
	}
	return series, nil
}

// Ready checks GET /ready; a 200 answer is nil, anything else an error
// (*Error for a non-2xx answer).
func (c *Client) Ready(ctx context.Context) error {
	status, err := c.get(ctx, endpointReady, nil, nil, nil)
	if err != nil {
		return fmt.Errorf("check loki ready: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("check loki ready: %w", &Error{StatusCode: status})
	}
	return nil
}

func (c *Client) query(ctx context.Context, ep endpoint, params url.Values, header http.Header) (*QueryResponse, error) {
	var resp *QueryResponse
	_, err := c.get(ctx, ep, params, header, func(body []byte) error {
		var err error
		resp, err = decodeQueryResponse(body)
		return err
	})
	return resp, err
}

// decodeQueryResponse decodes a 2xx query answer; a status other than
// "success" is an error.
func decodeQueryResponse(body []byte) (*QueryResponse, error) {
	// Skip encoding/json's validation pass when the answer has Loki's shape;
	// the fast decoder accepts valid JSON only.
	if resp, ok := fastQueryResponse(string(body)); ok && resp.Status == "success" && resp.Data.ResultType != "" {
		return &resp, nil
	}
	var resp QueryResponse
	err := resp.unmarshalSlow(body)
	if resp.Status != "" && resp.Status != "success" {
		return nil, statusError(body, resp.Status)
	}
	if err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	if resp.Status == "" {
		return nil, errors.New("decode response: missing status")
	}
	if resp.Data.ResultType == "" {
		return nil, errors.New("decode response: missing data")
	}
	return &resp, nil
}

// envelope is Loki's answer of the label and series endpoints.
type envelope[T any] struct {
	Status string `json:"status"`
	Data   T      `json:"data"`
}

func getData[T any](ctx context.Context, c *Client, ep endpoint, params url.Values) (T, error) {
	var data T
	_, err := c.get(ctx, ep, params, nil, func(body []byte) error {
		var err error
		data, err = decodeData[T](body)
		return err
	})
	return data, err
}

// decodeData decodes {"status":"success","data":...}.
func decodeData[T any](body []byte) (T, error) {
	var env envelope[T]
	err := json.Unmarshal(body, &env)
	if env.Status != "" && env.Status != "success" {
		var zero T
		return zero, statusError(body, env.Status)
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("decode response: %w", err)
	}
	if env.Status == "" {
		var zero T
		return zero, errors.New("decode response: missing status")
	}
	return env.Data, nil
}

// statusError describes a 200 answer whose status is not "success", with
// Loki's errorType and error when the body has them. It decodes the body
// again because decoding "data" may have stopped before those fields.
func statusError(body []byte, status string) error {
	var fields struct {
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	_ = json.Unmarshal(body, &fields) // best effort: the status is known
	desc := fmt.Sprintf("loki answered status %q", status)
	if fields.ErrorType != "" {
		desc += " (" + fields.ErrorType + ")"
	}
	if fields.Error != "" {
		desc += ": " + fields.Error
	}
	return errors.New("decode response: " + desc)
}

func setTime(params url.Values, key string, t time.Time) {
	if !t.IsZero() {
		params.Set(key, strconv.FormatInt(t.UnixNano(), 10))
	}
}

func setLimitDirection(params url.Values, limit int, dir Direction) {
	if limit > 0 {
		params.Set("limit", strconv.Itoa(limit))
	}
	if dir != "" {
		params.Set("direction", string(dir))
	}
}
