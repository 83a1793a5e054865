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

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/activityaudit/activityaudit/collector/event"
)

// DefaultRingBytes is the ring buffer size when Options.RingBytes is 0.
const DefaultRingBytes = 16 << 20

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
}

// Collector holds the loaded programs, their links and the ring buffer
// reader.
type Collector struct {
	events *ebpf.Map
	drops  *ebpf.Map
	exec   execBPFObjects
	proc   procBPFObjects
	net    netBPFObjects
	links  []link.Link
	reader *ringbuf.Reader

	runMu sync.Mutex // one Run at a time: it owns dec
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
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("remove memlock rlimit: %w", err)
	}

	c := &Collector{closed: make(chan struct{})}
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
	return c, nil
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

// Run reads the ring buffer and sends decoded events to out until ctx is
// done or the collector is closed; both end it with a nil error. One Run
// at a time. Records that do not decode (which would be a bug in the
// programs or the decoder) are skipped.
func (c *Collector) Run(ctx context.Context, out chan<- event.Event) error {
	c.runMu.Lock()
	defer c.runMu.Unlock()

	// ReadInto blocks in epoll holding the reader's lock, so a deadline
	// cannot be set from outside; Flush wakes it instead: the records
	// still in the ring are returned, then ErrFlushed.
	stop := context.AfterFunc(ctx, func() { _ = c.reader.Flush() })
	defer stop()

	var rec ringbuf.Record
	for {
		if err := c.reader.ReadInto(&rec); err != nil {
			switch {
			case errors.Is(err, ringbuf.ErrFlushed):
				if ctx.Err() != nil {
					return nil
				}
				continue
			case errors.Is(err, ringbuf.ErrClosed):
				return nil
			}
			return fmt.Errorf("read ring buffer: %w", err)
		}
		ev, err := c.dec.decode(rec.RawSample)
		if err != nil {
			continue
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return nil
		case <-c.closed:
			return nil
		}
	}
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

// Close detaches the programs and frees the kernel objects; a Run in
// progress returns.
func (c *Collector) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		var errs []error
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
		if err := errors.Join(errs...); err != nil {
			c.closeErr = fmt.Errorf("close collector: %w", err)
		}
	})
	return c.closeErr
}
