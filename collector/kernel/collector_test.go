package kernel

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/collector/event"
)

func TestOpenOptions(t *testing.T) {
	page := os.Getpagesize()
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{"default", Options{}, false},
		{"one page", Options{RingBytes: page}, false},
		{"not a power of two", Options{RingBytes: 3 * page}, true},
		{"below a page", Options{RingBytes: page / 2}, true},
		{"negative", Options{RingBytes: -page}, true},
		{"read interval and wake-ups", Options{ReadInterval: time.Millisecond, WakeBytes: 1}, false},
		{"negative read interval", Options{ReadInterval: -time.Millisecond}, true},
		{"negative wake-up threshold", Options{WakeBytes: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Open(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Open: %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
		})
	}
}

// TestDrops fills a one-page ring buffer nobody reads.
func TestDrops(t *testing.T) {
	c, err := Open(Options{RingBytes: os.Getpagesize(), ExcludeTGID: noExclude})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	script := strings.Repeat("/bin/true; ", 60)
	if err := exec.Command("/bin/sh", "-c", script).Run(); err != nil {
		t.Fatal(err)
	}
	d, err := c.Drops()
	if err != nil {
		t.Fatal(err)
	}
	if d.RingFull[event.KindExec] == 0 || d.RingFull[event.KindFork] == 0 {
		t.Errorf("drops = %v, want exec and fork drops after 60 execs into %d bytes", d.RingFull, os.Getpagesize())
	}
	for _, k := range []event.Kind{event.KindExec, event.KindFork, event.KindExit, event.KindConn} {
		if _, ok := d.RingFull[k]; !ok {
			t.Errorf("no drop count for kind %d", k)
		}
	}
}

// TestRunStops: Run ends when its context is done, once what the ring
// holds is taken (the consumer reads until out is closed), and when the
// collector is closed, even while nobody reads out.
func TestRunStops(t *testing.T) {
	tests := []struct {
		name string
		stop func(c *Collector, cancel context.CancelFunc)
		// early cancels before Run is called.
		early bool
		// read drains out once stopped; else nobody ever reads it.
		read bool
	}{
		{"context canceled", func(_ *Collector, cancel context.CancelFunc) { cancel() }, false, true},
		{"context canceled before Run", func(_ *Collector, cancel context.CancelFunc) { cancel() }, true, true},
		{"closed", func(c *Collector, _ context.CancelFunc) { c.Close() }, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Open(Options{ExcludeTGID: noExclude})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.early {
				tt.stop(c, cancel)
			}
			out := make(chan []event.Event) // unread until stopped: Run must stop while blocked on it too
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, out) }()
			if err := exec.Command("/bin/true").Run(); err != nil {
				t.Fatal(err)
			}
			if !tt.early {
				tt.stop(c, cancel)
			}
			if tt.read {
				for range out {
				}
			}
			if err := <-done; err != nil {
				t.Errorf("Run: %v, want nil", err)
			}
			if _, open := <-out; open {
				t.Error("out is still open after Run returned")
			}
		})
	}
}
