package kernel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/activityaudit/activityaudit/collector/event"
)

// How records wake the ring buffer's reader (bpf/common.h), and how Run
// reads them: on its timer, when woken by a burst, in order, and at
// shutdown.

const (
	noWakeup    = 1 // BPF_RB_NO_WAKEUP
	forceWakeup = 2 // BPF_RB_FORCE_WAKEUP
)

// wakeStep writes one record into the test programs' ring (reserve: a
// 64-byte record, 72 bytes of ring; output: len bytes, 8 + len padded to
// 8), reads the ring to its end (read), or sets the reader's parked flag
// (park, unpark).
type wakeStep struct {
	op    string // "reserve", "output", "read", "park" or "unpark"
	len   uint32
	flags uint64 // the flags the record must be written with
}

// TestBPFWake runs the write paths of the hooks (submit_flags,
// output_record) through BPF_PROG_TEST_RUN and watches the ring with an
// epoll of its own, added while the ring is empty: it reports the ring
// ready only after a wake-up. A record wakes the reader only when it
// brings the unread data up to wake_bytes, or when the reader is parked;
// every record is read.
func TestBPFWake(t *testing.T) {
	tests := []struct {
		name  string
		wake  uint64
		steps []wakeStep
	}{
		{"below the threshold", 1000, []wakeStep{{"reserve", 0, noWakeup}, {"reserve", 0, noWakeup}, {"output", 100, noWakeup}}},
		{"the record reaching it wakes, later ones not", 200, []wakeStep{
			{"reserve", 0, noWakeup}, {"reserve", 0, noWakeup}, {"reserve", 0, forceWakeup}, {"reserve", 0, noWakeup}}},
		{"output reaching it", 100, []wakeStep{{"output", 60, noWakeup}, {"output", 20, forceWakeup}, {"output", 1, noWakeup}}},
		{"again once read", 144, []wakeStep{
			{"reserve", 0, noWakeup}, {"reserve", 0, forceWakeup}, {"read", 0, 0}, {"reserve", 0, noWakeup}, {"output", 64, forceWakeup}}},
		{"1: a record into an empty ring, the kernel's policy", 1, []wakeStep{
			{"reserve", 0, forceWakeup}, {"output", 10, noWakeup}, {"read", 0, 0}, {"output", 10, forceWakeup}}},
		{"more than the ring: never", 1 << 20, []wakeStep{{"reserve", 0, noWakeup}, {"output", 200, noWakeup}, {"reserve", 0, noWakeup}}},
		{"parked: every record", 1 << 20, []wakeStep{
			{"reserve", 0, noWakeup}, {"park", 0, 0}, {"reserve", 0, forceWakeup}, {"output", 10, forceWakeup},
			{"read", 0, 0}, {"unpark", 0, 0}, {"output", 10, noWakeup}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := loadWakePrograms(t, tt.wake)
			rd, err := ringbuf.NewReader(objs.Events)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			ep := epollOn(t, objs.Events.FD())
			written, read := 0, 0
			woken := false // since the ring was last read
			for i, st := range tt.steps {
				if st.op == "park" || st.op == "unpark" {
					var parked uint64 // struct reader_state: parked, then padding
					if st.op == "park" {
						parked = 1
					}
					if err := objs.Reader.Update(uint32(0), parked, 0); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if st.op == "read" {
					read += readAll(t, rd)
					woken = false
					if ready(t, ep, 0) {
						t.Fatalf("step %d: ring ready after it was read", i)
					}
					continue
				}
				in := testBPFWakeTestIn{Len: st.len}
				if st.op == "output" {
					in.Output = 1
				}
				out := testRun(t, objs, objs.TestWake, &in).Wake
				if out.Ret != 0 {
					t.Fatalf("step %d: writing the record failed: %d", i, out.Ret)
				}
				written++
				if out.Flags != st.flags {
					t.Errorf("step %d (%s %d): flags %d, want %d", i, st.op, st.len, out.Flags, st.flags)
				}
				woken = woken || st.flags == forceWakeup
				// A wake-up is an irq_work, run before the test run
				// returns to user space; the wait only makes sure.
				timeout := 0
				if woken {
					timeout = int(waitFor.Milliseconds())
				}
				if got := ready(t, ep, timeout); got != woken {
					t.Errorf("step %d: ring ready %v, want %v", i, got, woken)
				}
			}
			read += readAll(t, rd)
			if read != written {
				t.Errorf("read %d records, want the %d written", read, written)
			}
		})
	}
}

// loadWakePrograms loads the test programs with a one-page events ring
// and wake_bytes set.
func loadWakePrograms(t *testing.T, wake uint64) *testBPFObjects {
	t.Helper()
	spec, err := loadTestBPF()
	if err != nil {
		t.Fatal(err)
	}
	spec.Maps["events"].MaxEntries = uint32(os.Getpagesize())
	if err := spec.Variables["wake_bytes"].Set(wake); err != nil {
		t.Fatal(err)
	}
	var objs testBPFObjects
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		t.Fatalf("load test programs: %v", err)
	}
	t.Cleanup(func() { objs.Close() })
	return &objs
}

func epollOn(t *testing.T, fd int) int {
	t.Helper()
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(ep) })
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
		t.Fatal(err)
	}
	return ep
}

// ready reports whether the epoll has the ring ready within timeout ms.
func ready(t *testing.T, ep, timeout int) bool {
	t.Helper()
	evs := make([]unix.EpollEvent, 1)
	for {
		n, err := unix.EpollWait(ep, evs, timeout)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
}

// readAll reads the ring to its end without waiting.
func readAll(t *testing.T, rd *ringbuf.Reader) int {
	t.Helper()
	rd.SetDeadline(time.Now())
	n := 0
	for {
		var rec ringbuf.Record
		err := rd.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// markedExec reports whether ev is the exec of `/bin/true mark`.
func markedExec(ev event.Event, mark string) bool {
	return ev.Exec != nil && len(ev.Exec.Args) == 2 && ev.Exec.Args[1] == mark
}

// TestRunTimer: records that never wake the reader are read on its timer.
func TestRunTimer(t *testing.T) {
	s := open(t, Options{ExcludeTGID: noExclude, RingBytes: 1 << 20, WakeBytes: 1<<20 + 1, neverPark: true})
	mark := fmt.Sprintf("timer-%d", time.Now().UnixNano())
	run(t, exec.Command("/bin/true", mark))
	s.waitUntil("exec of /bin/true "+mark, func(seen []event.Event) bool {
		return slices.ContainsFunc(seen, func(ev event.Event) bool { return markedExec(ev, mark) })
	})
}

// TestRunParked: a reader whose timer found the ring empty waits without
// one, and a record wakes it (no record would reach the wake-up
// threshold, so a reader parked without telling the programs would wait
// for ever).
func TestRunParked(t *testing.T) {
	s := open(t, Options{ExcludeTGID: noExclude, RingBytes: 1 << 20, WakeBytes: 1<<20 + 1, ReadInterval: time.Millisecond})
	deadline := time.Now().Add(waitFor)
	for atomic.LoadUint32(s.c.parked) == 0 {
		if time.Now().After(deadline) {
			// The reader parks after one timer interval with no record
			// from the whole machine: `go tool mage test` runs this
			// package alone, where such a millisecond comes within a
			// fraction of a second; heavy builds alongside can prevent it.
			t.Fatalf("the reader never parked in %v: never a quiet %v on this machine, or the timer does not park (run the kernel tests alone)", waitFor, time.Millisecond)
		}
		time.Sleep(time.Millisecond)
	}
	mark := fmt.Sprintf("parked-%d", time.Now().UnixNano())
	run(t, exec.Command("/bin/true", mark))
	s.waitUntil("exec of /bin/true "+mark, func(seen []event.Event) bool {
		return slices.ContainsFunc(seen, func(ev event.Event) bool { return markedExec(ev, mark) })
	})
}

// TestRunWake: with no timer to speak of, a burst past the threshold
// wakes the reader, which reads what the ring holds.
func TestRunWake(t *testing.T) {
	s := open(t, Options{ExcludeTGID: noExclude, ReadInterval: time.Hour, WakeBytes: 4096})
	mark := fmt.Sprintf("wake-%d", time.Now().UnixNano())
	// ~100 forks, execs and exits: tens of KiB, the threshold many times over.
	script := strings.Repeat("/bin/true "+mark+"; ", 100)
	run(t, exec.Command("/bin/sh", "-c", script))
	s.waitUntil("exec of /bin/true "+mark, func(seen []event.Event) bool {
		return slices.ContainsFunc(seen, func(ev event.Event) bool { return markedExec(ev, mark) })
	})
}

// TestRunOrder: batches keep the ring's order: the commands a shell runs
// one after another arrive in that order, each child's fork before its
// exec before its exit.
func TestRunOrder(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"timer", Options{WakeBytes: 1 << 30}},
		{"wake-ups", Options{WakeBytes: 1}},
		{"defaults", Options{}},
	}
	const n = 200
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.ExcludeTGID = noExclude
			s := open(t, tt.opts)
			mark := fmt.Sprintf("order-%d", time.Now().UnixNano())
			var script strings.Builder
			for i := range n {
				fmt.Fprintf(&script, "/bin/true %s-%d; ", mark, i)
			}
			run(t, exec.Command("/bin/sh", "-c", script.String()))
			want := make(map[uint32]int) // exec'd tgid → command number
			s.waitUntil(fmt.Sprintf("%d execs of /bin/true %s-N", n, mark), func(seen []event.Event) bool {
				return len(execsOf(seen, mark)) == n
			})
			// Each command's exit comes after its exec.
			last := execsOf(s.seen, mark)[n-1]
			s.waitUntil("exit of the last command", func(seen []event.Event) bool {
				return find(seen, exitOf, func(e *event.Exit) bool { return e.TGID == last.TGID && e.StartTime == last.StartTime }) != nil
			})
			for i, e := range execsOf(s.seen, mark) {
				if e.Args[1] != fmt.Sprintf("%s-%d", mark, i) {
					t.Fatalf("exec %d is %q: out of order", i, e.Args[1])
				}
				want[e.TGID] = i
			}
			// state per command: 1 forked, 2 exec'd, 3 exited.
			state := map[uint32]int{}
			for _, ev := range s.seen {
				var tgid uint32
				var next int
				switch {
				case ev.Fork != nil:
					tgid, next = ev.Fork.ChildTGID, 1
				case ev.Exec != nil:
					tgid, next = ev.Exec.TGID, 2
				case ev.Exit != nil:
					tgid, next = ev.Exit.TGID, 3
				default:
					continue
				}
				if _, ok := want[tgid]; !ok {
					continue
				}
				if state[tgid] != next-1 {
					t.Fatalf("command %d (pid %d): event %d after state %d", want[tgid], tgid, next, state[tgid])
				}
				state[tgid] = next
			}
			for tgid, i := range want {
				if state[tgid] != 3 {
					t.Errorf("command %d (pid %d): saw up to state %d, want fork, exec and exit", i, tgid, state[tgid])
				}
			}
		})
	}
}

func execsOf(seen []event.Event, mark string) []*event.Exec {
	var out []*event.Exec
	for _, ev := range seen {
		if ev.Exec != nil && len(ev.Exec.Args) == 2 && strings.HasPrefix(ev.Exec.Args[1], mark+"-") {
			out = append(out, ev.Exec)
		}
	}
	return out
}

// TestRunDrains: with neither wake-ups nor a timer, what the ring holds
// when ctx is done is still sent before Run returns.
func TestRunDrains(t *testing.T) {
	c, err := Open(Options{ExcludeTGID: noExclude, RingBytes: 1 << 20, WakeBytes: 1<<20 + 1, ReadInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan []event.Event)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, out) }()
	mark := "drain-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	run(t, exec.Command("/bin/true", mark))
	cancel()
	var seen []event.Event
	for b := range out {
		seen = append(seen, b...)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !slices.ContainsFunc(seen, func(ev event.Event) bool { return markedExec(ev, mark) }) {
		t.Errorf("the exec of /bin/true %s was not sent; saw %d events:\n%s", mark, len(seen), describe(seen))
	}
}
