package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidMaxPath is the kernel's pid bound: live processes need pids below it.
const pidMaxPath = "/proc/sys/kernel/pid_max"

// settleRSS is how long the collector runs before its RSS is read: its
// start (kernel BTF, /proc) makes garbage the Go runtime returns to the
// system over time.
const settleRSS = 15 * time.Second

// minFreeMemory is what the machine keeps free: no more sleepers past it.
const minFreeMemory = 3 << 30

// sleepers are idle busybox processes in one process group.
type sleepers struct {
	busybox string
	argv    []string
	pgid    int
	n       int
}

func (s *sleepers) spawn() error {
	attr := &syscall.ProcAttr{Env: []string{}, Sys: &syscall.SysProcAttr{Setpgid: true, Pgid: s.pgid}}
	pid, err := syscall.ForkExec(s.busybox, s.argv, attr)
	if err != nil {
		return fmt.Errorf("start sleeper %d: %w", s.n+1, err)
	}
	if s.pgid == 0 {
		s.pgid = pid
	}
	s.n++
	return nil
}

// kill ends every sleeper and reaps them.
func (s *sleepers) kill() {
	if s.pgid == 0 {
		return
	}
	_ = syscall.Kill(-s.pgid, syscall.SIGKILL)
	for {
		if _, err := syscall.Wait4(-s.pgid, nil, 0, nil); errors.Is(err, syscall.ECHILD) {
			break
		}
	}
	s.pgid, s.n = 0, 0
}

// raisePidMax makes room for n more processes and returns how to undo it.
func raisePidMax(n int) (restore func(), err error) {
	b, err := os.ReadFile(pidMaxPath)
	if err != nil {
		return nil, fmt.Errorf("read pid_max: %w", err)
	}
	old := strings.TrimSpace(string(b))
	cur, err := strconv.Atoi(old)
	if err != nil {
		return nil, fmt.Errorf("read pid_max: %w", err)
	}
	want := max(cur, 2*n+32768)
	if want == cur {
		return func() {}, nil
	}
	if err := os.WriteFile(pidMaxPath, []byte(strconv.Itoa(want)), 0o644); err != nil {
		return nil, fmt.Errorf("raise pid_max to %d: %w", want, err)
	}
	fmt.Printf("kernel.pid_max %s → %d for the run\n", old, want)
	return func() {
		if err := os.WriteFile(pidMaxPath, []byte(old), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "restore pid_max %s: %v\n", old, err)
		}
	}, nil
}

func memAvailable() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

var processesRE = regexp.MustCompile(`msg=capturing .*processes=(\d+)`)

func runRSS(cfg config) error {
	targets := slices.Sorted(slices.Values(cfg.procs))
	restore, err := raisePidMax(targets[len(targets)-1])
	if err != nil {
		return err
	}
	defer restore()
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("find busybox (Debian package busybox-static): %w", err)
	}
	// A duration no other command line has, to count their exec records.
	dur := strconv.Itoa(100_000 + int(time.Now().UnixNano()%100_000))
	sl := &sleepers{busybox: busybox, argv: []string{"sleep", dur}}
	defer sl.kill()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		sl.kill()
		restore()
		os.Exit(1)
	}()

	col, err := startCollector(cfg, cfg.collectors[0])
	if err != nil {
		return err
	}
	pats := newPatterns([]string{`"cmdline":"sleep ` + dur + `"`})
	col.watch(pats)
	time.Sleep(settleRSS)
	baseRSS, _, err := memory(col.pid())
	if err != nil {
		col.stop()
		return err
	}
	fmt.Printf("collector RSS with %d processes table (its start): %.1f MiB\n", tableSize(col), mib(baseRSS))
	fmt.Println()
	fmt.Println("| live processes added | collector saw (exec records) | RSS | beyond baseline | per 10k | peak RSS | spawn time |")
	fmt.Println("|---|---|---|---|---|---|---|")
	fmt.Printf("| 0 (baseline) | — | %.1f MiB | — | — | — | — |\n", mib(baseRSS))
	for _, target := range targets {
		t0 := time.Now()
		for sl.n < target {
			if sl.n%1000 == 0 && memAvailable() < minFreeMemory {
				fmt.Printf("stopped at %d processes: less than %d GiB of memory left\n", sl.n, minFreeMemory>>30)
				break
			}
			if err := sl.spawn(); err != nil {
				fmt.Printf("stopped at %d processes: %v\n", sl.n, err)
				break
			}
		}
		spawn := time.Since(t0)
		settle(uint64(sl.n), 5*time.Second, 2*time.Minute, func() uint64 { return pats.count(0) })
		time.Sleep(settleRSS)
		rss, hwm, err := memory(col.pid())
		if err != nil {
			col.stop()
			return err
		}
		beyond := float64(rss) - float64(baseRSS)
		fmt.Printf("| %d | %d | %.1f MiB | %.1f MiB | %.2f MiB | %.1f MiB | %v |\n", sl.n, pats.count(0), mib(rss), beyond/(1<<20),
			beyond/(1<<20)/float64(sl.n)*10_000, mib(hwm), spawn.Round(100*time.Millisecond))
		if sl.n < target {
			break
		}
	}
	col.stop()

	// A collector started while they run reads them from /proc.
	col, err = startCollector(cfg, cfg.collectors[0])
	if err != nil {
		return err
	}
	time.Sleep(settleRSS)
	rss, hwm, err := memory(col.pid())
	col.stop()
	if err != nil {
		return err
	}
	fmt.Printf("\ncollector started with %d live sleepers (table of %d read from /proc): RSS %.1f MiB, peak %.1f MiB\n",
		sl.n, tableSize(col), mib(rss), mib(hwm))
	return nil
}

// tableSize is the process count the collector logged at its start.
func tableSize(col *watched) int {
	m := processesRE.FindStringSubmatch(col.errText())
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
