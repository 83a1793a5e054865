package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The load is made by child processes: this program run again with
// childEnv set. Each waits for a common start time, works until a common
// end and prints what it did. Processes, not goroutines: Go serialises
// ForkExec on a lock, and the load should not share the bench's runtime.
const (
	childEnv  = "CAPTUREBENCH_CHILD"
	markerEnv = "CAPTUREBENCH_MARKER" // spawn: the argument /bin/true is run with
	addrEnv   = "CAPTUREBENCH_ADDR"   // connect: the listener
	rateEnv   = "CAPTUREBENCH_RATE"   // connect: connections a second (0: no limit)
	startEnv  = "CAPTUREBENCH_START"  // Unix ns
	endEnv    = "CAPTUREBENCH_END"    // Unix ns
)

func runChild(mode string) int {
	start, err1 := strconv.ParseInt(os.Getenv(startEnv), 10, 64)
	end, err2 := strconv.ParseInt(os.Getenv(endEnv), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintf(os.Stderr, "capturebench child: %v\n", err)
		return 2
	}
	time.Sleep(time.Until(time.Unix(0, start)))
	var out string
	var err error
	switch mode {
	case "spawn":
		out, err = spawnLoop(os.Getenv(markerEnv), time.Unix(0, end))
	case "connect":
		out, err = connectLoop(os.Getenv(addrEnv), os.Getenv(rateEnv), time.Unix(0, end))
	default:
		err = fmt.Errorf("unknown child mode %q", mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "capturebench %s: %v\n", mode, err)
		return 1
	}
	fmt.Println(out)
	return 0
}

// spawnLoop fork+execs `/bin/true marker` and waits for it, until end.
func spawnLoop(marker string, end time.Time) (string, error) {
	argv := []string{"/bin/true", marker}
	attr := &syscall.ProcAttr{Env: []string{}}
	var n uint64
	for time.Now().Before(end) {
		pid, err := syscall.ForkExec(argv[0], argv, attr)
		if err != nil {
			return "", fmt.Errorf("fork+exec /bin/true: %w", err)
		}
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
			return "", fmt.Errorf("wait for /bin/true: %w", err)
		}
		n++
	}
	return strconv.FormatUint(n, 10), nil
}

// connectLoop connects to addr and closes at once (with a reset: no
// TIME_WAIT to run out of ports), at rate a second, until end. It prints
// connects and failures.
func connectLoop(addr, rateStr string, end time.Time) (string, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return "", fmt.Errorf("parse listener address: %w", err)
	}
	rate, err := strconv.Atoi(rateStr)
	if err != nil {
		return "", fmt.Errorf("parse rate: %w", err)
	}
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	linger := &unix.Linger{Onoff: 1, Linger: 0}
	var ok, failed uint64
	began := time.Now()
	for i := uint64(1); ; i++ {
		if i%32 == 0 {
			now := time.Now()
			if !now.Before(end) {
				break
			}
			if rate > 0 {
				if ahead := time.Duration(float64(i)/float64(rate)*1e9) - now.Sub(began); ahead > 0 {
					time.Sleep(ahead)
				}
			}
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return "", fmt.Errorf("open socket: %w", err)
		}
		if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, linger); err != nil {
			unix.Close(fd)
			return "", fmt.Errorf("set SO_LINGER: %w", err)
		}
		if err := unix.Connect(fd, sa); err != nil {
			failed++
		} else {
			ok++
		}
		unix.Close(fd)
	}
	return fmt.Sprintf("%d %d", ok, failed), nil
}

// children starts n children of a mode with the environment given, all
// starting at the same time, lasting d; wait returns their output lines.
type children struct {
	cmds  []*exec.Cmd
	outs  []*strings.Builder
	start time.Time
	end   time.Time
}

func startChildren(mode string, n int, d time.Duration, env ...string) (*children, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	c := &children{start: time.Now().Add(300 * time.Millisecond)}
	c.end = c.start.Add(d)
	for range n {
		cmd := exec.Command(self)
		cmd.Env = append([]string{childEnv + "=" + mode, "GOMAXPROCS=1",
			startEnv + "=" + strconv.FormatInt(c.start.UnixNano(), 10), endEnv + "=" + strconv.FormatInt(c.end.UnixNano(), 10)}, env...)
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, os.Stderr
		if err := cmd.Start(); err != nil {
			c.kill()
			return nil, fmt.Errorf("start %s child: %w", mode, err)
		}
		c.cmds = append(c.cmds, cmd)
		c.outs = append(c.outs, out)
	}
	return c, nil
}

func (c *children) kill() {
	for _, cmd := range c.cmds {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// cpu is the CPU time the children used, with that of the processes they
// waited for (wait4 reports a child's usage with its reaped descendants'),
// once wait has returned.
func (c *children) cpu() time.Duration {
	var d time.Duration
	for _, cmd := range c.cmds {
		if st := cmd.ProcessState; st != nil {
			d += st.UserTime() + st.SystemTime()
		}
	}
	return d
}

// wait waits for every child and returns what each printed.
func (c *children) wait() ([]string, error) {
	var errs []error
	for _, cmd := range c.cmds {
		if err := cmd.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("child %d: %w", cmd.Process.Pid, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var outs []string
	for _, o := range c.outs {
		outs = append(outs, strings.TrimSpace(o.String()))
	}
	return outs, nil
}
