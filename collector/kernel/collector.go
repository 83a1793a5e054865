// Package kernel is the collector's kernel side: eBPF programs that report
// every successful exec, every process fork and exit, and network
// connections into a ring buffer, and the Go loader that decodes the
// records into collector/event types.
//
// The programs (bpf/*.c) are compiled ahead of time by bpf2go into three
// objects (exec, proc, net) sharing one ring buffer and one set of drop
// counters; CO-RE relocates their kernel struct accesses against the
// running kernel's BTF at load time.
//
// Hooks (see the C sources for the kernel facts behind each):
//   - exec: tp_btf/sched_process_exec
//   - fork: tp_btf/sched_process_fork; exit: tp_btf/sched_process_exit
//   - TCP and UDP connect: cgroup/connect4 and connect6 on the cgroup v2
//     root (the call, in the caller), syscalls:sys_enter_connect and
//     sys_exit_connect (its return value), and for TCP the outcome from
//     tp_btf/inet_sock_set_state
//   - TCP accept: syscalls:sys_exit_accept and sys_exit_accept4
//   - UDP first send per destination: cgroup/sendmsg4 and sendmsg6
//
// fentry/fexit on the protocol functions would be the first choice for
// connections, but the target kernel (6.18 on Firecracker) refuses to
// load fentry/fexit/LSM programs (BPF_PROG_LOAD fails with EPERM before
// verification) and has no kprobes (CONFIG_KPROBES unset); the hooks
// above all load there. Consequences: only processes in the cgroup
// v2 subtree mounted where the collector looks (the whole hierarchy on a
// host) have their connects and UDP sends seen; connects and accepts made
// through io_uring have no syscall exit (a TCP connect's asynchronous
// outcome is still reported, an accept is not).
//
// Conn.Local is the socket's local end as the kernel holds it after the
// operation: for a UDP send from an unbound or wildcard-bound socket the
// address is the unspecified one (the source address is chosen per packet),
// and for a connect that failed before a port was chosen it is 0.0.0.0:0.
//
// Nothing done by the process Options.ExcludeTGID (the collector itself by
// default) is reported: forks it makes, its exits, its connections. Its
// children are reported.
//
// Exit.ExitCode is the wait(2) status as the kernel keeps it (exit status
// << 8 | terminating signal; syscall.WaitStatus decodes it).
//
// Path fields (Exec.Exe, Exec.Cwd) are resolved in the kernel relative to
// the process's root, like d_path. When the walk was cut short (deeper
// than 64 levels or longer than 4 KiB) the path is the resolved tail
// without a leading "/".
package kernel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/activityaudit/activityaudit/collector/event"
)

// DefaultRingBytes is the ring buffer size when Options.RingBytes is 0.
const DefaultRingBytes = 16 << 20

// DefaultReadInterval is how often Run reads the ring buffer while
// records come (Options.ReadInterval 0), and so the longest a record waits
// in the ring before Run sends it. Records do not wake the reader one by
// one (bpf/common.h), but every read still costs a timer, goroutine
// wake-ups and a write by the sink: 100–250 µs of CPU on the 2-core VM
// measured, so under load the interval sets most of the collector's CPU
// (1,450 execs a second, side by side: 2.5 % of a core per 1,000 exec/s
// at 10 ms, 1.5 % at 25 ms, 1.1 % at 50 ms). 50 ms is far below what
// shipping adds (a batch waits up to a second) and keeps the ring nearly
// empty: the heaviest load measured writes about 280 KiB in 50 ms.
const DefaultReadInterval = 50 * time.Millisecond

// DefaultWakeFraction sets the unread data at which a record wakes the
// reader before its timer when Options.WakeBytes is 0: RingBytes /
// DefaultWakeFraction (2 MiB of the default 16 MiB). Below it the timer
// reads the ring long before it could fill (the heaviest load measured,
// 56,000 connection records a second, writes about 280 KiB in 50 ms);
// past it (a burst, a small ring, a reader that fell behind) the reader
// is woken with most of the ring still free.
const DefaultWakeFraction = 8

// maxBatch is the most events Run sends to its channel at once.
const maxBatch = 1024

// Options configure Open.
type Options struct {
	// RingBytes is the ring buffer's size in bytes: a power of two and a
	// multiple of the page size. 0 means DefaultRingBytes.
	RingBytes int
	// ExcludeTGID is a process whose own activity is never reported.
	// 0 means the calling process (os.Getpid()).
	ExcludeTGID uint32
	// ExecAuditID makes the exec program scan the environment (first
	// 8 KiB) of container-entry processes, those whose real parent is in
	// another pid namespace, for KUBERNETES_EXEC_AUDIT_ID.
	ExecAuditID bool
	// ReadInterval is how often Run reads the ring buffer when no record
	// woke it. 0 means DefaultReadInterval.
	ReadInterval time.Duration
	// WakeBytes is the unread data in the ring buffer at which a record
	// wakes the reader before its timer. 0 means RingBytes /
	// DefaultWakeFraction; 1 wakes it for a record written into an empty
	// ring (the kernel's own policy); more than RingBytes never.
	WakeBytes int

	// neverPark keeps Run on its timer when it finds the ring empty
	// (tests of the timer).
	neverPark bool
}

// Collector holds the loaded programs, their links and the ring buffer
// reader.
type Collector struct {
	events *ebpf.Map
	drops  *ebpf.Map
	state  *ebpf.Map // the reader's state (struct reader_state in bpf/common.h)
	// parked is the state's parked field, mapped into memory.
	parked *uint32
	mapped []byte
	exec   execBPFObjects
	proc   procBPFObjects
	net    netBPFObjects
	links  []link.Link
	reader *ringbuf.Reader
	// ready is the ring buffer's file descriptor (a duplicate) in the Go
	// runtime's network poller: Run waits on it for a wake-up or its
	// timer (a read deadline) without blocking a thread in epoll_wait.
	ready *os.File

	interval  time.Duration // Options.ReadInterval
	wakeBytes int           // Options.WakeBytes
	neverPark bool          // Options.neverPark

	runMu sync.Mutex // one Run at a time: it owns dec and uses reader
	dec   decoder

	closed    chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
}

// Open loads the programs into the kernel and attaches them. Events are
// buffered in the ring buffer from then on; Run reads them.
func Open(opts Options) (*Collector, error) {
	if opts.RingBytes == 0 {
		opts.RingBytes = DefaultRingBytes
	}
	if page := os.Getpagesize(); opts.RingBytes < page || opts.RingBytes&(opts.RingBytes-1) != 0 {
		return nil, fmt.Errorf("ring buffer size %d: not a power of two of at least %d bytes", opts.RingBytes, page)
	}
	if opts.ExcludeTGID == 0 {
		opts.ExcludeTGID = uint32(os.Getpid())
	}
	switch {
	case opts.ReadInterval < 0:
		return nil, fmt.Errorf("read interval %v: negative", opts.ReadInterval)
	case opts.ReadInterval == 0:
		opts.ReadInterval = DefaultReadInterval
	}
	switch {
	case opts.WakeBytes < 0:
		return nil, fmt.Errorf("wake-up threshold %d bytes: negative", opts.WakeBytes)
	case opts.WakeBytes == 0:
		opts.WakeBytes = opts.RingBytes / DefaultWakeFraction
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("remove memlock rlimit: %w", err)
	}

	c := &Collector{closed: make(chan struct{}), interval: opts.ReadInterval, wakeBytes: opts.WakeBytes, neverPark: opts.neverPark}
	if err := c.load(opts); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.attach(); err != nil {
		c.Close()
		return nil, err
	}
	rd, err := ringbuf.NewReader(c.events)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("open ring buffer reader: %w", err)
	}
	c.reader = rd
	// The reader never waits: Run reads the ring to its end, then waits
	// on c.ready.
	rd.SetDeadline(time.Unix(0, 1))
	if c.ready, err = pollable(c.events.FD()); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// pollable returns a duplicate of fd, a ring buffer map, registered with
// the Go runtime's poller (epoll, edge-triggered): it becomes readable
// when a record wakes the reader. A thread blocked in epoll_wait, as the
// ring buffer reader's own wait is, keeps the runtime's sysmon thread
// polling every 20 µs to 10 ms; a goroutine parked in the poller lets it
// sleep.
func pollable(fd int) (*os.File, error) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("duplicate ring buffer descriptor: %w", err)
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, fmt.Errorf("set ring buffer descriptor non-blocking: %w", err)
	}
	f := os.NewFile(uintptr(dup), "ring buffer")
	if err := f.SetReadDeadline(time.Time{}); err != nil { // os.ErrNoDeadline: not in the poller
		f.Close()
		return nil, fmt.Errorf("poll ring buffer: %w", err)
	}
	return f, nil
}

// load creates the shared maps and loads the three objects with them.
func (c *Collector) load(opts Options) error {
	execSpec, err := loadExecBPF()
	if err != nil {
		return fmt.Errorf("load exec spec: %w", err)
	}
	procSpec, err := loadProcBPF()
	if err != nil {
		return fmt.Errorf("load proc spec: %w", err)
	}
	netSpec, err := loadNetBPF()
	if err != nil {
		return fmt.Errorf("load net spec: %w", err)
	}

	// The shared maps, created once from the exec object's definitions.
	eventsSpec := execSpec.Maps[execBPFMapEvents].Copy()
	eventsSpec.MaxEntries = uint32(opts.RingBytes)
	if c.events, err = ebpf.NewMap(eventsSpec); err != nil {
		return fmt.Errorf("create ring buffer: %w", err)
	}
	if c.drops, err = ebpf.NewMap(execSpec.Maps[execBPFMapDrops]); err != nil {
		return fmt.Errorf("create drop counters: %w", err)
	}
	if c.state, err = ebpf.NewMap(execSpec.Maps[execBPFMapReader]); err != nil {
		return fmt.Errorf("create reader state: %w", err)
	}
	// The parked flag is written with atomic stores, which need its
	// address: a mapping of our own rather than ebpf.Memory's copies.
	if c.mapped, err = unix.Mmap(c.state.FD(), 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return fmt.Errorf("map reader state: %w", err)
	}
	c.parked = (*uint32)(unsafe.Pointer(&c.mapped[0]))

	var scan uint32
	if opts.ExecAuditID {
		scan = 1
	}
	if err := execSpec.Variables[execBPFVarScanAuditId].Set(scan); err != nil {
		return fmt.Errorf("set scan_audit_id: %w", err)
	}

	collOpts := &ebpf.CollectionOptions{
		MapReplacements: map[string]*ebpf.Map{
			"events": c.events,
			"drops":  c.drops,
			"reader": c.state,
		},
		Cache: btf.NewCache(),
	}
	for _, o := range []struct {
		name string
		spec *ebpf.CollectionSpec
		objs any
	}{
		{"exec", execSpec, &c.exec},
		{"proc", procSpec, &c.proc},
		{"net", netSpec, &c.net},
	} {
		o.spec.Maps["events"].MaxEntries = uint32(opts.RingBytes)
		if err := o.spec.Variables["exclude_tgid"].Set(opts.ExcludeTGID); err != nil {
			return fmt.Errorf("set %s exclude_tgid: %w", o.name, err)
		}
		if err := o.spec.Variables["wake_bytes"].Set(uint64(opts.WakeBytes)); err != nil {
			return fmt.Errorf("set %s wake_bytes: %w", o.name, err)
		}
		if err := o.spec.LoadAndAssign(o.objs, collOpts); err != nil {
			return fmt.Errorf("load %s programs: %w", o.name, err)
		}
	}
	return nil
}

// attach links every program to its hook; see bpf/*.c for the kernel
// facts behind each.
func (c *Collector) attach() error {
	cgroup, err := cgroup2Root()
	if err != nil {
		return err
	}
	// tp_btf programs are BPF_PROG_TYPE_TRACING, attached by BTF id
	// through a BPF link.
	tracing := func(p *ebpf.Program) func() (link.Link, error) {
		return func() (link.Link, error) { return link.AttachTracing(link.TracingOptions{Program: p}) }
	}
	// Syscall tracepoints: perf events on syscalls:*, found by tracefs id.
	syscall := func(name string, p *ebpf.Program) func() (link.Link, error) {
		return func() (link.Link, error) { return link.Tracepoint("syscalls", name, p, nil) }
	}
	// cgroup hooks on the cgroup v2 root run for every process in the
	// hierarchy; a link attaches as one of possibly several programs.
	cg := func(typ ebpf.AttachType, p *ebpf.Program) func() (link.Link, error) {
		return func() (link.Link, error) {
			return link.AttachCgroup(link.CgroupOptions{Path: cgroup, Attach: typ, Program: p})
		}
	}
	hooks := []struct {
		name   string
		attach func() (link.Link, error)
	}{
		{"exec", tracing(c.exec.HandleExec)},
		{"fork", tracing(c.proc.HandleFork)},
		{"exit", tracing(c.proc.HandleExit)},
		{"inet_sock_set_state", tracing(c.net.HandleSetState)},
		{"sys_enter_connect", syscall("sys_enter_connect", c.net.SysEnterConnect)},
		{"sys_exit_connect", syscall("sys_exit_connect", c.net.SysExitConnect)},
		{"sys_exit_accept", syscall("sys_exit_accept", c.net.SysExitAccept)},
		{"sys_exit_accept4", syscall("sys_exit_accept4", c.net.SysExitAccept4)},
		{"cgroup connect4", cg(ebpf.AttachCGroupInet4Connect, c.net.Connect4)},
		{"cgroup connect6", cg(ebpf.AttachCGroupInet6Connect, c.net.Connect6)},
		{"cgroup sendmsg4", cg(ebpf.AttachCGroupUDP4Sendmsg, c.net.Sendmsg4)},
		{"cgroup sendmsg6", cg(ebpf.AttachCGroupUDP6Sendmsg, c.net.Sendmsg6)},
	}
	for _, h := range hooks {
		l, err := h.attach()
		if err != nil {
			return fmt.Errorf("attach %s program: %w", h.name, err)
		}
		c.links = append(c.links, l)
	}
	return nil
}

// cgroup2Root is where the cgroup v2 hierarchy's root is mounted
// (/sys/fs/cgroup, or /sys/fs/cgroup/unified in hybrid setups), from
// /proc/self/mountinfo.
func cgroup2Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	defer f.Close()
	path, err := parseCgroup2Root(f)
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	return path, nil
}

// parseCgroup2Root returns the mount point of the first cgroup2 mount of
// the hierarchy's root ("/") in mountinfo (proc(5): "id parent
// major:minor root mountpoint options [optional...] - fstype source
// superoptions").
func parseCgroup2Root(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields, fs := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(fs) < 1 || fs[0] != "cgroup2" || fields[3] != "/" {
			continue
		}
		return unescapeMountinfo(fields[4]), nil
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", errors.New("no cgroup2 filesystem mounted")
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Run reads the ring buffer and sends the decoded events to out in
// batches, in the order the programs wrote them, until ctx is done or the
// collector is closed; then it closes out and returns nil. A batch ends
// where the ring buffer had no more records (or at maxBatch events), so
// a consumer that finds out empty after a batch has nothing waiting.
//
// While records come, Run reads the ring every Options.ReadInterval, or
// sooner when a burst wakes it (Options.WakeBytes). When its timer finds
// the ring empty it parks: it waits without a timer, and the next record
// wakes it. So a record is sent at most ReadInterval after it was
// written (when out has room), and at once after a quiet spell.
//
// When ctx is done Run reads what the ring still holds and sends it
// before it returns: its consumer must receive until out is closed.
// Close ends Run at once. One Run at a time. Records that do not decode
// (which would be a bug in the programs or the decoder) are skipped.
func (c *Collector) Run(ctx context.Context, out chan<- []event.Event) error {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	defer close(out)
	if c.isClosed() {
		return nil
	}
	// send hands a batch over and returns the batch to fill next.
	send := func(b []event.Event) ([]event.Event, error) {
		select {
		case out <- b:
			return newBatch(len(b)), nil
		case <-c.closed:
			return nil, os.ErrClosed
		}
	}

	rc, err := c.ready.SyscallConn()
	if err != nil {
		return fmt.Errorf("wait for ring buffer: %w", err)
	}
	// A done ctx ends the wait at once: the deadline it sets comes after
	// Run's own (Run checks ctx after setting it).
	stop := context.AfterFunc(ctx, func() { _ = c.ready.SetReadDeadline(time.Now()) })
	defer stop()
	// Whether the ring holds enough to be read without waiting: a wake-up
	// that came while Run was reading is forgotten when it starts to wait.
	burst := func(uintptr) bool { return c.reader.AvailableBytes() >= c.wakeBytes }
	// Parked, any record is worth a read. AvailableBytes loads the
	// producer position after parked was set (see park), so a record
	// either shows here or is submitted with a wake-up.
	anyRecord := func(uintptr) bool { return c.reader.AvailableBytes() > 0 }
	defer c.unpark()

	batch := newBatch(0)
	timer := false // the last wait ended on the timer
	for {
		stopping := ctx.Err() != nil // then this read is the last
		var n int
		batch, n, err = c.readRing(batch, send)
		if err != nil || stopping {
			if c.isClosed() {
				return nil
			}
			return err
		}
		deadline, ready := time.Now().Add(c.interval), burst
		if timer && n == 0 && !c.neverPark {
			// Quiet: park until a record wakes us.
			deadline, ready = time.Time{}, anyRecord
			c.park()
		}
		if err := c.ready.SetReadDeadline(deadline); err != nil {
			if c.isClosed() {
				return nil
			}
			return fmt.Errorf("set ring buffer timer: %w", err)
		}
		if ctx.Err() != nil {
			continue
		}
		// Returns at a wake-up, the timer or ctx.
		err := rc.Read(ready)
		c.unpark()
		timer = errors.Is(err, os.ErrDeadlineExceeded)
		if err != nil && !timer {
			if c.isClosed() {
				return nil
			}
			return fmt.Errorf("wait for ring buffer: %w", err)
		}
	}
}

// park tells the programs that Run waits without a timer: from now on
// every record wakes it. The store is an atomic exchange, a full barrier
// before Run next looks at the ring buffer's producer position.
func (c *Collector) park() { atomic.StoreUint32(c.parked, 1) }

func (c *Collector) unpark() {
	if atomic.LoadUint32(c.parked) != 0 {
		atomic.StoreUint32(c.parked, 0)
	}
}

func (c *Collector) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// readRing reads the ring buffer to its end, handing the events over in
// batches, and returns the batch to fill next and how many records it
// read. It fails with os.ErrClosed when the collector is closed.
//
// It reads only while the ring holds data: the reader, when it finds the
// ring empty, asks its epoll (a system call, which also wakes the Go
// runtime's sysmon thread) before it says so.
func (c *Collector) readRing(batch []event.Event, deliver func([]event.Event) ([]event.Event, error)) ([]event.Event, int, error) {
	var rec ringbuf.Record
	n := 0
	for c.reader.AvailableBytes() > 0 {
		err := c.reader.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break // only discarded records were left (the reader's deadline has passed)
		}
		if err != nil {
			return batch, n, fmt.Errorf("read ring buffer: %w", err)
		}
		n++
		if ev, err := c.dec.decode(rec.RawSample); err == nil {
			batch = append(batch, ev)
		}
		if len(batch) >= maxBatch {
			if batch, err = deliver(batch); err != nil {
				return batch, n, err
			}
		}
	}
	if len(batch) == 0 {
		return batch, n, nil
	}
	batch, err := deliver(batch)
	return batch, n, err
}

// newBatch makes a batch sized like the last one.
func newBatch(last int) []event.Event {
	return make([]event.Event, 0, min(max(last, 16), maxBatch))
}

// Drops returns how many records the programs could not write because
// the ring buffer was full, by kind, since Open.
func (c *Collector) Drops() (event.Drops, error) {
	d := event.Drops{RingFull: make(map[event.Kind]uint64, 4)}
	var perCPU []uint64
	for _, k := range []event.Kind{event.KindExec, event.KindFork, event.KindExit, event.KindConn} {
		if err := c.drops.Lookup(uint32(k), &perCPU); err != nil {
			return event.Drops{}, fmt.Errorf("read drop counter %d: %w", k, err)
		}
		var n uint64
		for _, v := range perCPU {
			n += v
		}
		d.RingFull[k] = n
	}
	return d, nil
}

// Close detaches the programs and frees the kernel objects. A Run in
// progress returns at once, without reading the ring further; Close waits
// for it.
func (c *Collector) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		var errs []error
		if c.ready != nil {
			errs = append(errs, c.ready.Close())
		}
		// A Run in progress uses the reader until it returns, which it
		// does at once now.
		c.runMu.Lock()
		defer c.runMu.Unlock()
		if c.reader != nil {
			errs = append(errs, c.reader.Close())
		}
		for _, l := range c.links {
			errs = append(errs, l.Close())
		}
		errs = append(errs, c.exec.Close(), c.proc.Close(), c.net.Close())
		if c.events != nil {
			errs = append(errs, c.events.Close())
		}
		if c.drops != nil {
			errs = append(errs, c.drops.Close())
		}
		if c.mapped != nil {
			errs = append(errs, unix.Munmap(c.mapped))
		}
		if c.state != nil {
			errs = append(errs, c.state.Close())
		}
		if err := errors.Join(errs...); err != nil {
			c.closeErr = fmt.Errorf("close collector: %w", err)
		}
	})
	return c.closeErr
}
