package activityaudit

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/timerange"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/plugins/source"
)

// Event batches: how many events one NextBatch returns at most, and the
// largest payload one event holds (Loki's default line limit is 256 KB).
const (
	batchSize    = 256
	maxEventSize = 256 << 10
)

// BatchTimeout is how long NextBatch waits for records before it answers
// sdk.ErrTimeout: the SDK's own default for its instances.
const BatchTimeout = 30 * time.Millisecond

// Retry timing while Loki is unreachable, and how often the cursor file is
// written at most (plus once on close).
const (
	minBackoff   = 250 * time.Millisecond
	maxBackoff   = 30 * time.Second
	saveInterval = time.Second
)

// pagesBuffered bounds how far the reader runs ahead of Falco.
const pagesBuffered = 4

// instance is an open event source: a reader goroutine follows Loki and
// hands pages over; NextBatch turns them into events.
type instance struct {
	source.BaseInstance
	log     *log.Logger
	timeout time.Duration

	cancel context.CancelFunc
	done   chan struct{}
	pages  chan *page
	fatal  chan error

	cur *page
	pos int
	// delivered is the position after the events NextBatch returned.
	delivered Cursor
	// cursorFile keeps delivered across restarts; saved is when it was last
	// written, dirty whether delivered moved since.
	cursorFile string
	saved      time.Time
	dirty      bool
	timer      *time.Timer
}

// OpenParams are suggested open parameters: where to start.
func (p *Plugin) OpenParams() ([]sdk.OpenParam, error) {
	return []sdk.OpenParam{
		{Value: "", Desc: "Resume from the cursor file, else start at the configured start"},
		{Value: "now", Desc: "Follow new records only"},
		{Value: "now-1h", Desc: "Start one hour ago (any now-<duration>, RFC 3339 time or Unix milliseconds)"},
	}, nil
}

// Open starts following records. params, when set, is where to start (as
// the start setting) and overrides the cursor file; otherwise the cursor
// file, when there is one, says where reading stopped.
func (p *Plugin) Open(params string) (source.Instance, error) {
	if !p.ready {
		return nil, errors.New("open activityaudit: plugin not initialized")
	}
	c, err := p.startCursor(strings.TrimSpace(params), time.Now())
	if err != nil {
		return nil, fmt.Errorf("open activityaudit: %w", err)
	}
	client, err := loki.New(p.set.loki)
	if err != nil {
		return nil, fmt.Errorf("open activityaudit: %w", err)
	}
	inst := newInstance(p.set.cursorFile, c, p.log, BatchTimeout)
	events, err := sdk.NewEventWriters(batchSize, maxEventSize)
	if err != nil {
		return nil, fmt.Errorf("open activityaudit: allocate events: %w", err)
	}
	inst.SetEvents(events)
	f := newFollower(client, &p.set, c.Clone(), maxEventSize, p.log)
	inst.start(f, p.set.poll)
	return inst, nil
}

// startCursor is where a new instance starts: params when given, else the
// cursor file, else the configured start.
func (p *Plugin) startCursor(params string, now time.Time) (Cursor, error) {
	if params == "" && p.set.cursorFile != "" {
		c, ok, err := LoadCursor(p.set.cursorFile)
		if err != nil {
			return Cursor{}, err
		}
		if ok {
			p.log.Printf("resuming at %s from %s", time.Unix(0, c.Time).UTC().Format(time.RFC3339Nano), p.set.cursorFile)
			return c, nil
		}
	}
	start := p.set.start
	if params != "" {
		start = params
	}
	t, err := timerange.Parse(start, now)
	if err != nil {
		return Cursor{}, fmt.Errorf("start: %w", err)
	}
	return Cursor{Time: t.UnixNano()}, nil
}

func newInstance(cursorFile string, c Cursor, logger *log.Logger, timeout time.Duration) *instance {
	return &instance{
		log: logger, timeout: timeout,
		done:  make(chan struct{}),
		pages: make(chan *page, pagesBuffered),
		fatal: make(chan error, 1),
		// The cursor is saved on the first NextBatch, so a fresh start is
		// remembered even before any record arrives.
		delivered: c.Clone(), cursorFile: cursorFile, dirty: true,
		timer: stoppedTimer(),
	}
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// start runs the reader until Close.
func (s *instance) start(f *follower, poll time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.read(ctx, f, poll)
}

// read follows Loki: a page as soon as the previous one was full, else
// after poll; while Loki fails, again after a growing backoff. A request
// Loki refuses outright (4xx) before any query succeeded ends the source:
// it is a configuration error, and Falco says so.
func (s *instance) read(ctx context.Context, f *follower, poll time.Duration) {
	defer close(s.done)
	b := backoff{min: minBackoff, max: maxBackoff, jitter: func(d time.Duration) time.Duration {
		if d <= 0 {
			return 0
		}
		return rand.N(d)
	}}
	var down time.Time
	for {
		p, more, err := f.fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if f.queried == 0 && permanent(err) {
				s.fatal <- err
				return
			}
			if down.IsZero() {
				down = time.Now()
				s.log.Printf("loki unreachable, retrying with backoff: %v", err)
			}
			if !sleep(ctx, b.next()) {
				return
			}
			continue
		}
		b.reset()
		if !down.IsZero() {
			s.log.Printf("loki reachable again after %s", time.Since(down).Round(time.Millisecond))
			down = time.Time{}
		}
		if len(p.events) > 0 {
			select {
			case s.pages <- p:
			case <-ctx.Done():
				return
			}
		}
		if !more && !sleep(ctx, poll) {
			return
		}
	}
}

// sleep waits d, or until ctx is done (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// NextBatch fills evts with the records read so far. It waits for records
// at most the batch timeout, and then answers sdk.ErrTimeout, so Falco is
// never blocked. The events it returned before are processed when Falco
// asks again: the cursor file is written from here.
func (s *instance) NextBatch(_ sdk.PluginState, evts sdk.EventWriters) (int, error) {
	s.checkpoint(false)
	n := 0
	for n < evts.Len() {
		if s.cur == nil {
			p, err := s.nextPage(n == 0)
			if err != nil {
				return n, err
			}
			if p == nil {
				break
			}
			s.cur, s.pos = p, 0
		}
		e := s.cur.events[s.pos]
		w := evts.Get(n)
		if _, err := w.Writer().Write(s.cur.payload(s.pos)); err != nil {
			return n, fmt.Errorf("write event: %w", err)
		}
		w.SetTimestamp(uint64(e.ts))
		s.delivered.Advance(e.ts, e.key)
		s.dirty = true
		n++
		if s.pos++; s.pos == len(s.cur.events) {
			s.cur = nil
		}
	}
	if n == 0 {
		return 0, sdk.ErrTimeout
	}
	return n, nil
}

// nextPage takes the next page: waiting up to the timeout when wait, else
// only if one is ready. nil means none yet.
func (s *instance) nextPage(wait bool) (*page, error) {
	select {
	case p := <-s.pages:
		return p, nil
	case err := <-s.fatal:
		return nil, fmt.Errorf("read activity: %w", err)
	default:
	}
	if !wait {
		return nil, nil
	}
	s.timer.Reset(s.timeout)
	defer s.timer.Stop()
	select {
	case p := <-s.pages:
		return p, nil
	case err := <-s.fatal:
		return nil, fmt.Errorf("read activity: %w", err)
	case <-s.timer.C:
		return nil, nil
	}
}

// checkpoint writes the cursor file (at most every saveInterval unless
// force).
func (s *instance) checkpoint(force bool) {
	if s.cursorFile == "" || !s.dirty || !force && time.Since(s.saved) < saveInterval {
		return
	}
	if err := SaveCursor(s.cursorFile, s.delivered); err != nil {
		s.log.Printf("%v", err)
		s.saved = time.Now() // retry after an interval, not on every batch
		return
	}
	s.saved, s.dirty = time.Now(), false
}

// Close stops the reader and saves the position after the last event
// returned: Falco closes a source after processing what it returned.
func (s *instance) Close() {
	s.cancel()
	<-s.done
	s.checkpoint(true)
}
