package activityaudit

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// page is the records one query brought that had not been read before, as
// event payloads, in time order.
type page struct {
	events []pending
	// buf holds the payloads back to back.
	buf []byte
}

// pending is one event of a page.
type pending struct {
	ts         int64
	key        uint64
	start, end int // payload is buf[start:end]
}

func (p *page) payload(i int) []byte { return p.buf[p.events[i].start:p.events[i].end] }

// follower reads the records that match a query from Loki, oldest first,
// page by page, with a cursor: each record once.
type follower struct {
	client   *loki.Client
	query    string
	pageSize int
	// delay keeps reading this far behind now, for records pushed late.
	delay time.Duration
	// maxPayload is the largest payload an event holds.
	maxPayload int
	now        func() time.Time
	log        *log.Logger

	cursor Cursor
	// queried counts the queries Loki answered.
	queried int
	// limit is the page size of the next query: pageSize, doubled while a
	// full page holds only records read before (more than a page of records
	// share the cursor's timestamp).
	limit int
}

func newFollower(client *loki.Client, s *settings, c Cursor, maxPayload int, logger *log.Logger) *follower {
	return &follower{
		client: client, query: s.query, pageSize: s.pageSize, delay: s.delay, maxPayload: maxPayload,
		now: time.Now, log: logger, cursor: c, limit: s.pageSize,
	}
}

// fetch runs one query from the cursor and returns the records not read
// before (the page may be empty). more reports that more records may be
// waiting right now: the answer was full.
func (f *follower) fetch(ctx context.Context) (p *page, more bool, err error) {
	start := time.Unix(0, f.cursor.Time)
	end := f.now().Add(-f.delay)
	if !start.Before(end) {
		return &page{}, false, nil
	}
	resp, err := f.client.QueryRange(ctx, loki.RangeQuery{
		Query: f.query, Start: start, End: end, Limit: f.limit, Direction: loki.Forward, Categorize: true,
	})
	if err != nil {
		return nil, false, fmt.Errorf("follow records: %w", err)
	}
	f.queried++
	if resp.Data.ResultType != loki.ResultTypeStreams {
		return nil, false, fmt.Errorf("follow records: loki answered a %s result, want streams", resp.Data.ResultType)
	}
	recs, err := record.FromStreams(resp.Data.Streams, loki.Forward)
	if err != nil {
		return nil, false, fmt.Errorf("follow records: %w", err)
	}
	p = f.apply(recs)
	full := len(recs) >= f.limit
	switch {
	case len(p.events) > 0 || !full:
		f.limit = f.pageSize
	case f.limit < MaxPageSize:
		f.limit = min(2*f.limit, MaxPageSize)
	default:
		// More records share one nanosecond than Loki returns in a query:
		// they cannot be paged through. Say so, and go past them.
		f.log.Printf("more than %d records at %s: skipping the rest of that nanosecond",
			f.limit, time.Unix(0, f.cursor.Time).UTC().Format(time.RFC3339Nano))
		f.cursor = Cursor{Time: f.cursor.Time + 1}
		f.limit = f.pageSize
	}
	return p, full, nil
}

// apply turns the records of an answer (in time order) into a page of the
// ones not read before, and moves the cursor past them.
func (f *follower) apply(recs []record.Record) *page {
	p := &page{events: make([]pending, 0, len(recs)), buf: make([]byte, 0, 512*len(recs))}
	for i := range recs {
		r := &recs[i]
		start := len(p.buf)
		p.buf = appendPayload(p.buf, r)
		key := RecordKey(p.buf[start:])
		if f.cursor.Has(r.Time, key) {
			p.buf = p.buf[:start]
			continue
		}
		f.cursor.Advance(r.Time, key)
		if len(p.buf)-start > f.maxPayload {
			f.log.Printf("record at %s is %d bytes, more than an event holds (%d): skipped",
				time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano), len(p.buf)-start, f.maxPayload)
			p.buf = p.buf[:start]
			continue
		}
		p.events = append(p.events, pending{ts: r.Time, key: key, start: start, end: len(p.buf)})
	}
	return p
}

// permanent reports whether a failed query will fail again the same way:
// Loki refused the request itself (a 4xx other than timeouts and rate
// limits), not a passing outage.
func permanent(err error) bool {
	var le *loki.Error
	if !errors.As(err, &le) {
		return false
	}
	switch le.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return le.StatusCode >= 400 && le.StatusCode < 500
}

// backoff is the wait after failed attempts: doubling from min to max,
// with up to a fifth of jitter so that many plugins do not retry together.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
	jitter   func(time.Duration) time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	d := b.cur
	if b.jitter != nil {
		d += b.jitter(d / 5)
	}
	return d
}

func (b *backoff) reset() { b.cur = 0 }
