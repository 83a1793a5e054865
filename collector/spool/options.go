package spool

import (
	"errors"
	"fmt"
	"time"
)

// FullPolicy says what Append does when the spool has no room left.
type FullPolicy string

const (
	// DropOldest deletes the oldest whole segment(s) to make room, even
	// unread or unacknowledged ones, and counts the entries lost.
	DropOldest FullPolicy = "drop-oldest"
	// DropNewest refuses the entries that do not fit and counts them.
	DropNewest FullPolicy = "drop-newest"
	// Block makes Append wait (honouring its context) until the shipper
	// acknowledged enough for the entries to fit.
	Block FullPolicy = "block"
)

// Policies lists the valid full policies, the default first.
var Policies = []FullPolicy{DropOldest, DropNewest, Block}

// ParseFullPolicy parses a full policy by name; "" is the default,
// DropOldest.
func ParseFullPolicy(s string) (FullPolicy, error) {
	if s == "" {
		return DropOldest, nil
	}
	for _, p := range Policies {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("parse full policy: %q is not one of %q, %q, %q", s, DropOldest, DropNewest, Block)
}

// Defaults and limits of Options.
const (
	DefaultMaxBytes     int64 = 1 << 30
	DefaultSegmentBytes int64 = 16 << 20
	DefaultSyncInterval       = time.Second
	// MinSegmentBytes is the smallest segment size accepted; MaxBytes must
	// be at least four times it.
	MinSegmentBytes int64 = 1 << 10
)

// Options configure a spool.
type Options struct {
	// Dir holds the spool's files; it is created (0o700) if missing.
	Dir string
	// MaxBytes bounds the bytes of segment files on disk; 0 means 1 GiB.
	MaxBytes int64
	// SegmentBytes is the target segment size; 0 means 16 MiB, or
	// MaxBytes/4 when that is smaller. It must be at most MaxBytes/4.
	SegmentBytes int64
	// Full is the policy when the spool is full; "" means DropOldest.
	Full FullPolicy
	// SyncInterval is how often, at most, the active segment and the ack
	// position are fsynced: the window of entries a power loss can take.
	// 0 means 1s; negative means never (the page cache survives a kill -9
	// of the process anyway).
	SyncInterval time.Duration
}

var errOptions = errors.New("invalid options")

// withDefaults checks o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		return o, fmt.Errorf("check options: no dir: %w", errOptions)
	}
	if o.MaxBytes < 0 {
		return o, fmt.Errorf("check options: negative max bytes %d: %w", o.MaxBytes, errOptions)
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxBytes < 4*MinSegmentBytes {
		return o, fmt.Errorf("check options: max bytes %d below the minimum %d: %w", o.MaxBytes, 4*MinSegmentBytes, errOptions)
	}
	switch {
	case o.SegmentBytes < 0:
		return o, fmt.Errorf("check options: negative segment bytes %d: %w", o.SegmentBytes, errOptions)
	case o.SegmentBytes == 0:
		o.SegmentBytes = min(DefaultSegmentBytes, o.MaxBytes/4)
	case o.SegmentBytes < MinSegmentBytes:
		return o, fmt.Errorf("check options: segment bytes %d below the minimum %d: %w", o.SegmentBytes, MinSegmentBytes, errOptions)
	case o.SegmentBytes > o.MaxBytes/4:
		return o, fmt.Errorf("check options: segment bytes %d above a quarter of max bytes %d: %w", o.SegmentBytes, o.MaxBytes, errOptions)
	}
	p, err := ParseFullPolicy(string(o.Full))
	if err != nil {
		return o, fmt.Errorf("check options: %w: %w", err, errOptions)
	}
	o.Full = p
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	return o, nil
}
