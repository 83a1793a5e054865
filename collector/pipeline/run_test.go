package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/activityaudit/activityaudit/collector/event"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// flushSink records what was written and, at each Flush, how many
// records had been written by then, and whether the context of each
// call was canceled.
type flushSink struct {
	mu            sync.Mutex
	cmds          []string // command lines, in the order written
	writeCanceled []bool
	flushes       []int
	flushCanceled []bool
	failAt        int // Write fails for the failAt-th record (1-based); 0 never
}

func (s *flushSink) Write(ctx context.Context, r *record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmds = append(s.cmds, r.Cmdline)
	s.writeCanceled = append(s.writeCanceled, ctx.Err() != nil)
	if len(s.cmds) == s.failAt {
		return errors.New("sink broke")
	}
	return nil
}

func (s *flushSink) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes = append(s.flushes, len(s.cmds))
	s.flushCanceled = append(s.flushCanceled, ctx.Err() != nil)
	return nil
}

// cmdBatch is one batch of n commands, numbered from first: each a fork,
// the exec of "cmd <i>" and the exit, in the order the kernel reports
// them.
func cmdBatch(first, n int) []event.Event {
	var b []event.Event
	for i := first; i < first+n; i++ {
		pid, start := uint32(1000+i), uint64(10_000+100*i)
		b = append(b,
			event.Event{Kind: event.KindFork, Fork: &event.Fork{Time: start, ParentTGID: 1, ParentStartTime: 1, ChildTGID: pid, ChildStartTime: start, PidNS: 1000}},
			execEvent(pid, 1, start, "cmd", "cmd", fmt.Sprint(i)),
			event.Event{Kind: event.KindExit, Exit: &event.Exit{Time: start + 50, TGID: pid, StartTime: start}},
		)
	}
	return b
}

func cmdLines(first, n int) []string {
	var out []string
	for i := first; i < first+n; i++ {
		out = append(out, fmt.Sprintf("cmd %d", i))
	}
	return out
}

// TestRunBatches: the events of queued batches are handled in order, and
// the sink is flushed once no batch waits, not after each.
func TestRunBatches(t *testing.T) {
	p, _ := newTestPipeline(t, Config{Redaction: nil})
	sink := &flushSink{}
	p.sink = sink
	batches := make(chan []event.Event, 3)
	batches <- cmdBatch(0, 5)
	batches <- cmdBatch(5, 1)
	batches <- cmdBatch(6, 20)
	close(batches)
	if err := p.Run(context.Background(), batches); err != nil {
		t.Fatal(err)
	}
	if want := cmdLines(0, 26); !slices.Equal(sink.cmds, want) {
		t.Errorf("records %q, want %q", sink.cmds, want)
	}
	if len(sink.flushes) == 0 || sink.flushes[0] != 26 {
		t.Errorf("flushes after %v records, want the first after all 26 (no batch waited then)", sink.flushes)
	}
}

// TestRunAfterCancel: once ctx is done Run still handles, writes and
// flushes what the sender sends until it closes the channel, and the sink
// no longer sees a canceled context.
func TestRunAfterCancel(t *testing.T) {
	p, _ := newTestPipeline(t, Config{})
	sink := &flushSink{}
	p.sink = sink
	ctx, cancel := context.WithCancel(context.Background())
	batches := make(chan []event.Event) // unbuffered: each send waits for Run
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, batches) }()
	batches <- cmdBatch(0, 2)
	cancel()
	batches <- cmdBatch(2, 2) // a Source's last batch, read after ctx ended
	close(batches)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := cmdLines(0, 4); !slices.Equal(sink.cmds, want) {
		t.Errorf("records %q, want %q", sink.cmds, want)
	}
	if n := len(sink.flushes); n == 0 || sink.flushes[n-1] != 4 || sink.flushCanceled[n-1] {
		t.Errorf("flushes after %v records (context canceled: %v), want a last one after all 4, not canceled", sink.flushes, sink.flushCanceled)
	}
	if slices.Contains(sink.writeCanceled[2:], true) {
		t.Errorf("the records sent after the cancel were written with a canceled context: %v", sink.writeCanceled)
	}
}

// fakeSource sends its batches, then, once ctx is done, its last batch,
// and closes out, as the kernel collector does.
type fakeSource struct {
	batches [][]event.Event
	last    []event.Event
	sentAll chan struct{} // closed when batches are sent
	err     error         // returned once batches are sent
}

func (f *fakeSource) Run(ctx context.Context, out chan<- []event.Event) error {
	defer close(out)
	for _, b := range f.batches {
		out <- b
	}
	close(f.sentAll)
	if f.err != nil {
		return f.err
	}
	<-ctx.Done()
	out <- f.last
	return nil
}

func TestRunSource(t *testing.T) {
	tests := []struct {
		name    string
		failAt  int
		srcErr  error
		wantErr bool
		want    []string
	}{
		{"the last batch after cancel is kept", 0, nil, false, cmdLines(0, 12)},
		{"a failing sink stops the source", 3, nil, true, cmdLines(0, 3)},
		{"a failing source ends the pipeline", 0, errors.New("ring broke"), true, cmdLines(0, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTestPipeline(t, Config{})
			sink := &flushSink{failAt: tt.failAt}
			p.sink = sink
			src := &fakeSource{
				batches: [][]event.Event{cmdBatch(0, 5), cmdBatch(5, 5)},
				last:    cmdBatch(10, 2),
				sentAll: make(chan struct{}),
				err:     tt.srcErr,
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- p.RunSource(ctx, src) }()
			if !tt.wantErr && tt.srcErr == nil {
				<-src.sentAll
				cancel()
			}
			err := <-done
			if (err != nil) != tt.wantErr || (tt.srcErr != nil && !errors.Is(err, tt.srcErr)) {
				t.Fatalf("RunSource: %v, want an error: %v", err, tt.wantErr)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if !slices.Equal(sink.cmds, tt.want) {
				t.Errorf("records %q, want %q", sink.cmds, tt.want)
			}
		})
	}
}
