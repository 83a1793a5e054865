// Package loki is a small, dependency-free client for the Grafana Loki HTTP
// query API, together with the wire types of Loki's query responses.
//
// The types decode every answer Loki 3 gives on /loki/api/v1/query and
// /loki/api/v1/query_range (streams, in the merged and in the
// "categorize-labels" form, matrix, vector and scalar) and marshal back to the
// same JSON, so that an embedded Loki-compatible store can answer with them.
package loki
