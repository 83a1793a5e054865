package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cilium/ebpf"

	"github.com/activityaudit/activityaudit/collector/event"
)

// patterns count output lines: a line counts for a pattern when it
// contains each of the pattern's parts.
type patterns struct {
	parts  [][][]byte
	counts []atomic.Uint64
}

func newPatterns(ps ...[]string) *patterns {
	p := &patterns{counts: make([]atomic.Uint64, len(ps))}
	for _, parts := range ps {
		var bs [][]byte
		for _, s := range parts {
			bs = append(bs, []byte(s))
		}
		p.parts = append(p.parts, bs)
	}
	return p
}

func (p *patterns) match(line []byte) {
	for i, parts := range p.parts {
		all := true
		for _, s := range parts {
			if !bytes.Contains(line, s) {
				all = false
				break
			}
		}
		if all {
			p.counts[i].Add(1)
		}
	}
}

// count is how many lines matched pattern i.
func (p *patterns) count(i int) uint64 { return p.counts[i].Load() }

// watched is a tracer run as a child process (the collector, execsnoop):
// its stdout lines are counted against the current patterns, its stderr
// kept.
type watched struct {
	name   string
	cmd    *exec.Cmd
	pats   atomic.Pointer[patterns]
	lines  atomic.Uint64
	stderr struct {
		sync.Mutex
		bytes.Buffer
	}
	readDone chan struct{}
}

// start runs cmd and returns once a line of its stdout or stderr satisfies
// ready (at most 60 s).
func start(name string, cmd *exec.Cmd, ready func(line string) bool) (*watched, error) {
	w := &watched{name: name, cmd: cmd, readDone: make(chan struct{})}
	w.pats.Store(newPatterns())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	isReady := make(chan struct{})
	var once sync.Once
	check := func(line []byte) {
		if ready(string(line)) {
			once.Do(func() { close(isReady) })
		}
	}
	go func() {
		defer close(w.readDone)
		r := bufio.NewReaderSize(stdout, 1<<20)
		checking := true
		for {
			line, err := r.ReadSlice('\n')
			if len(line) > 0 {
				w.lines.Add(1)
				w.pats.Load().match(line)
				if checking {
					check(line)
					select {
					case <-isReady:
						checking = false
					default:
					}
				}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		r := bufio.NewReader(stderr)
		for {
			line, err := r.ReadBytes('\n')
			w.stderr.Lock()
			w.stderr.Write(line)
			w.stderr.Unlock()
			check(line)
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-isReady:
		return w, nil
	case <-time.After(time.Minute):
		w.stop()
		return nil, fmt.Errorf("start %s: not ready after a minute: %s", name, w.errText())
	}
}

// watch replaces the patterns counted from now on.
func (w *watched) watch(p *patterns) { w.pats.Store(p) }

func (w *watched) pid() int { return w.cmd.Process.Pid }

func (w *watched) errText() string {
	w.stderr.Lock()
	defer w.stderr.Unlock()
	return w.stderr.String()
}

// stop interrupts the process and waits for it (10 s, then kills it).
func (w *watched) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGINT)
	exited := make(chan struct{})
	go func() {
		<-w.readDone
		_ = w.cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = w.cmd.Process.Kill()
		<-exited
	}
}

// cpu is the process's user+system CPU time so far (all threads), from
// /proc/<pid>/stat in clock ticks (USER_HZ, 100 on Linux).
func cpu(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("read cpu time: short stat %q", b)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// memory is the process's resident set and its peak, in bytes.
func memory(pid int) (rss, hwm uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read memory: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}

// dropCounters is the collector's per-CPU array of ring-full drops by
// event kind, found among the process's BPF map file descriptors
// (/proc/<pid>/fdinfo has map_id for each).
type dropCounters struct{ m *ebpf.Map }

func openDrops(pid int) (*dropCounters, error) {
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("find drop counters: %w", err)
	}
	seen := map[uint64]bool{}
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			continue
		}
		_, rest, ok := strings.Cut(string(b), "map_id:")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0]), 10, 32)
		if err != nil || seen[id] {
			continue
		}
		seen[id] = true
		m, err := ebpf.NewMapFromID(ebpf.MapID(id))
		if err != nil {
			continue
		}
		if info, err := m.Info(); err == nil && info.Name == "drops" && m.Type() == ebpf.PerCPUArray {
			return &dropCounters{m: m}, nil
		}
		m.Close()
	}
	return nil, fmt.Errorf("find drop counters: no map named drops among process %d's", pid)
}

// read returns the drops so far by kind.
func (d *dropCounters) read() (map[event.Kind]uint64, error) {
	out := map[event.Kind]uint64{}
	var perCPU []uint64
	for _, k := range []event.Kind{event.KindExec, event.KindFork, event.KindExit, event.KindConn} {
		if err := d.m.Lookup(uint32(k), &perCPU); err != nil {
			return nil, fmt.Errorf("read drop counter %d: %w", k, err)
		}
		for _, v := range perCPU {
			out[k] += v
		}
	}
	return out, nil
}

func (d *dropCounters) Close() error { return d.m.Close() }

// settle waits until count stops changing for quiet, or reaches want, at
// most limit; the tracers are draining what the storm made.
func settle(want uint64, quiet, limit time.Duration, counts ...func() uint64) {
	deadline := time.Now().Add(limit)
	last := make([]uint64, len(counts))
	lastChange := time.Now()
	for time.Now().Before(deadline) {
		done, changed := true, false
		for i, c := range counts {
			n := c()
			if n < want {
				done = false
			}
			if n != last[i] {
				last[i], changed = n, true
			}
		}
		if done {
			return
		}
		if changed {
			lastChange = time.Now()
		} else if time.Since(lastChange) > quiet {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// bpfPrograms are a process's loaded BPF programs (found like the drop
// counters), for the time the kernel spends running them: with statistics
// enabled (ebpf.EnableStats), the in-kernel cost of capture, paid by the
// processes being watched rather than by the collector.
type bpfPrograms struct{ progs []*ebpf.Program }

func openPrograms(pid int) (*bpfPrograms, error) {
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("find programs: %w", err)
	}
	b := &bpfPrograms{}
	seen := map[uint64]bool{}
	for _, e := range ents {
		data, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			continue
		}
		_, rest, ok := strings.Cut(string(data), "prog_id:")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0]), 10, 32)
		if err != nil || seen[id] {
			continue
		}
		seen[id] = true
		p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
		if err != nil {
			continue
		}
		b.progs = append(b.progs, p)
	}
	if len(b.progs) == 0 {
		return nil, fmt.Errorf("find programs: process %d has none", pid)
	}
	return b, nil
}

// runtime is the programs' total run time so far, and each one's by name.
func (b *bpfPrograms) runtime() (time.Duration, map[string]time.Duration) {
	var total time.Duration
	each := map[string]time.Duration{}
	for _, p := range b.progs {
		st, err := p.Stats()
		if err != nil {
			continue
		}
		total += st.Runtime
		name := fmt.Sprint(p)
		if info, err := p.Info(); err == nil {
			name = info.Name
		}
		each[name] += st.Runtime
	}
	return total, each
}

func (b *bpfPrograms) Close() error {
	var errs []error
	for _, p := range b.progs {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}
