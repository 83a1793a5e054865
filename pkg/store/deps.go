package store

// Dependencies the embedded store is built on (pinned in go.mod).
import (
	_ "github.com/cockroachdb/pebble/v2"
	_ "github.com/golang/snappy"
	_ "github.com/grafana/loki/pkg/push"
)
