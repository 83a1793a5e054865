package loki

import "encoding/json"

// Direction of a log query: the order in which entries are returned.
type Direction string

// Directions understood by Loki.
const (
	// Backward returns the newest entries first (Loki's default).
	Backward Direction = "backward"
	// Forward returns the oldest entries first.
	Forward Direction = "forward"
)

// ResultType names the shape of QueryData's result.
type ResultType string

// Result types of Loki's query API.
const (
	ResultTypeStreams ResultType = "streams"
	ResultTypeMatrix  ResultType = "matrix"
	ResultTypeVector  ResultType = "vector"
	ResultTypeScalar  ResultType = "scalar"
)

// EncodingFlagCategorizeLabels is the encoding flag (sent in the request
// header X-Loki-Response-Encoding-Flags and echoed in data.encodingFlags) that
// makes Loki return only the stream labels in "stream" and the structured
// metadata and parsed labels of each entry in a third element.
const EncodingFlagCategorizeLabels = "categorize-labels"

// QueryResponse is the answer of /loki/api/v1/query and
// /loki/api/v1/query_range.
type QueryResponse struct {
	// Status is "success" for a successful query.
	Status string `json:"status"`
	// Warnings are query warnings Loki may add; omitted when empty.
	Warnings []string `json:"warnings,omitempty"`
	// Data holds the result.
	Data QueryData `json:"data"`
}

// QueryData is the "data" object of a QueryResponse. Exactly one of Streams,
// Matrix, Vector or Scalar is used, as named by ResultType.
//
// On the wire, "result" is decoded according to "resultType"; QueryData is
// marshalled as resultType, encodingFlags (only when non-empty), result and
// stats (only when set).
type QueryData struct {
	// ResultType is "streams", "matrix", "vector" or "scalar".
	ResultType ResultType
	// EncodingFlags are the flags the answer was encoded with, e.g.
	// ["categorize-labels"].
	EncodingFlags []string
	// Streams is the result of a log query.
	Streams []Stream
	// Matrix is the result of a metric range query.
	Matrix []Series
	// Vector is the result of a metric instant query.
	Vector []Sample
	// Scalar is the result of a scalar query.
	Scalar *Point
	// Stats is Loki's query statistics object, kept verbatim; nil when absent.
	Stats json.RawMessage
}

// Categorized reports whether the answer is in the "categorize-labels" form.
func (d QueryData) Categorized() bool {
	for _, f := range d.EncodingFlags {
		if f == EncodingFlagCategorizeLabels {
			return true
		}
	}
	return false
}

// Stream is one log stream of a streams result.
type Stream struct {
	// Labels are the stream labels; in the merged (uncategorized) form they
	// also hold structured metadata and parsed labels.
	Labels map[string]string `json:"stream"`
	// Entries are the log entries, in the query's direction.
	Entries []Entry `json:"values"`
}

// Entry is one log line. On the wire it is [ts, line] or, in the categorized
// form, [ts, line, {"structuredMetadata":{...},"parsed":{...}}].
type Entry struct {
	// Time is the timestamp in Unix nanoseconds; on the wire a decimal string.
	Time int64
	// Line is the log line.
	Line string
	// StructuredMetadata are the entry's structured metadata labels
	// (categorized form only).
	StructuredMetadata map[string]string
	// Parsed are the labels extracted by parsers such as | json
	// (categorized form only).
	Parsed map[string]string
}

// Series is one series of a matrix result.
type Series struct {
	Metric map[string]string `json:"metric"`
	Values []Point           `json:"values"`
}

// Sample is one sample of a vector result.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  Point             `json:"value"`
}

// Point is a metric sample. On the wire it is [seconds, "value"], where
// seconds is a JSON number that may have a fraction (1795687260.5).
type Point struct {
	// Time is the timestamp in Unix milliseconds.
	Time int64
	// Value is the sample value.
	Value float64
}
