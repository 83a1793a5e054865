package kernel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/collector/event"
)

// helperEnv makes the test binary act as a helper process (see
// runHelper) instead of running tests: the tests need client processes
// with pids of their own.
const helperEnv = "KERNEL_TEST_HELPER"

// noExclude is a tgid no process has (above pid_max's limit), for tests
// that need the test process's own activity reported.
const noExclude = 1<<31 - 1

// waitFor bounds how long a test waits for the events it expects; the
// events normally arrive in milliseconds.
const waitFor = 20 * time.Second

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode, os.Args[1:]))
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "collector/kernel tests load eBPF programs: run them as root")
		os.Exit(1)
	}
	for _, fs := range []struct{ typ, dir string }{
		{"tracefs", "/sys/kernel/tracing"},
		{"debugfs", "/sys/kernel/debug"},
	} {
		if err := exec.Command("mountpoint", "-q", fs.dir).Run(); err != nil {
			if out, err := exec.Command("mount", "-t", fs.typ, fs.typ, fs.dir).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "mount %s: %v: %s\n", fs.dir, err, out)
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}

// session is an open collector whose events a test reads.
type session struct {
	t       *testing.T
	c       *Collector
	batches chan []event.Event
	pending []event.Event // received, not yet seen
	seen    []event.Event
	cancel  context.CancelFunc
	done    chan error
}

// open opens a collector with opts and runs it until the test ends.
func open(t *testing.T, opts Options) *session {
	t.Helper()
	c, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{t: t, c: c, batches: make(chan []event.Event, 16), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- c.Run(ctx, s.batches) }()
	t.Cleanup(func() {
		cancel()
		for range s.batches { // Run sends what the ring holds, then closes
		}
		if err := <-s.done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// waitUntil reads events until done reports true for the events seen so
// far (it is called after each event), failing the test with what was
// seen after waitFor.
func (s *session) waitUntil(what string, done func(seen []event.Event) bool) []event.Event {
	s.t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for !done(s.seen) {
		if len(s.pending) > 0 {
			s.seen = append(s.seen, s.pending[0])
			s.pending = s.pending[1:]
			continue
		}
		select {
		case b, ok := <-s.batches:
			if !ok {
				s.t.Fatalf("no %s: Run ended; saw %d events:\n%s", what, len(s.seen), describe(s.seen))
			}
			s.pending = b
		case <-deadline.C:
			s.t.Fatalf("no %s after %v; saw %d events:\n%s", what, waitFor, len(s.seen), describe(s.seen))
		}
	}
	return s.seen
}

// reset forgets the events seen so far.
func (s *session) reset() { s.seen = nil }

// describe formats events for failure messages (the last 200).
func describe(evs []event.Event) string {
	if len(evs) > 200 {
		evs = evs[len(evs)-200:]
	}
	var b strings.Builder
	for _, ev := range evs {
		switch ev.Kind {
		case event.KindExec:
			fmt.Fprintf(&b, "exec %+v\n", *ev.Exec)
		case event.KindFork:
			fmt.Fprintf(&b, "fork %+v\n", *ev.Fork)
		case event.KindExit:
			fmt.Fprintf(&b, "exit %+v\n", *ev.Exit)
		case event.KindConn:
			fmt.Fprintf(&b, "conn %+v\n", *ev.Conn)
		}
	}
	return b.String()
}

// runHelper is the test binary run as a helper process: a client whose
// connections the tests look for. It prints the local address it used.
//
//	tcp-connect ADDR        connect; exit 0 when connected
//	tcp-refused ADDR        connect; exit 0 when refused
//	tcp-unreachable ADDR    connect; exit 0 when the network is unreachable
//	udp-connect ADDR        connect a UDP socket, send one datagram
//	udp-send NET LADDR A B  unconnected UDP socket bound to LADDR on NET: send to A twice, then to B
func runHelper(mode string, args []string) int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "helper %s %v: %v\n", mode, args, err)
		return 1
	}
	switch mode {
	case "tcp-connect":
		c, err := net.Dial("tcp", args[0])
		if err != nil {
			return fail(err)
		}
		fmt.Println(c.LocalAddr())
		c.Close()
	case "tcp-refused", "tcp-unreachable":
		want := syscall.ECONNREFUSED
		if mode == "tcp-unreachable" {
			want = syscall.ENETUNREACH
		}
		c, err := net.Dial("tcp", args[0])
		if err == nil {
			c.Close()
			return fail(errors.New("connected"))
		}
		if !errors.Is(err, want) {
			return fail(err)
		}
	case "udp-connect":
		c, err := net.Dial("udp", args[0])
		if err != nil {
			return fail(err)
		}
		fmt.Println(c.LocalAddr())
		if _, err := c.Write([]byte("x")); err != nil {
			return fail(err)
		}
		c.Close()
	case "udp-send":
		c, err := net.ListenPacket(args[0], args[1])
		if err != nil {
			return fail(err)
		}
		fmt.Println(c.LocalAddr())
		for _, dst := range []string{args[2], args[2], args[3]} {
			a, err := net.ResolveUDPAddr("udp", dst)
			if err != nil {
				return fail(err)
			}
			if _, err := c.WriteTo([]byte("x"), a); err != nil {
				return fail(err)
			}
		}
		c.Close()
	default:
		return fail(errors.New("unknown helper"))
	}
	return 0
}

// helper starts the test binary as a helper (see runHelper), through
// prefix (e.g. "ip netns exec NS") if given, and returns it with the
// local address it printed (empty for the failure modes).
func helper(t *testing.T, prefix []string, mode string, args ...string) (pid uint32, local netip.AddrPort) {
	t.Helper()
	argv := append(append(append([]string(nil), prefix...), os.Args[0]), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper %s %v: %v: %s", mode, args, err, stderr.String())
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		if local, err = netip.ParseAddrPort(s); err != nil {
			t.Fatalf("helper %s printed %q: %v", mode, s, err)
		}
	}
	return uint32(cmd.Process.Pid), local
}

// run runs cmd, failing the test if it cannot be started (exit status
// is the caller's business), and returns its pid.
func run(t *testing.T, cmd *exec.Cmd) uint32 {
	t.Helper()
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("run %v: %v", cmd.Args, err)
		}
	}
	return uint32(cmd.Process.Pid)
}

// find returns the first event that get extracts and match accepts.
func find[T any](seen []event.Event, get func(event.Event) *T, match func(*T) bool) *T {
	for _, ev := range seen {
		if v := get(ev); v != nil && match(v) {
			return v
		}
	}
	return nil
}

func execOf(ev event.Event) *event.Exec { return ev.Exec }
func forkOf(ev event.Event) *event.Fork { return ev.Fork }
func exitOf(ev event.Event) *event.Exit { return ev.Exit }
func connOf(ev event.Event) *event.Conn { return ev.Conn }
