package pipeline

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/activityaudit/activityaudit/collector/event"
	"github.com/activityaudit/activityaudit/collector/hostinfo"
	"github.com/activityaudit/activityaudit/collector/proctable"
	"github.com/activityaudit/activityaudit/collector/redact"
)

const benchNS = 4026531836

// newBenchPipeline is a pipeline as `collector run` makes it, on a fake
// /proc whose pid 1 has an /etc/passwd (so user names resolve from the
// cache, as on a host), with a Discard sink and the redaction rules given
// (nil: the default ones).
func newBenchPipeline(b *testing.B, rules []redact.Rule) (*Pipeline, *Discard) {
	b.Helper()
	procRoot := b.TempDir()
	etc := filepath.Join(procRoot, "1", "root", "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "passwd"), []byte("root:x:0:0::/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	table, err := proctable.New(proctable.Config{Node: "node-a", ProcRoot: procRoot, HostPidNS: benchNS, CgroupRoot: "/nonexistent"})
	if err != nil {
		b.Fatal(err)
	}
	sink := &Discard{}
	p, err := New(Config{Cluster: "demo", Host: hostinfo.Info{Host: "node-a", MAC: "02:42:ac:11:00:02"}, ProcRoot: procRoot, Redaction: rules},
		table, fakeContainers{77: {ID: cid, Runtime: "containerd"}}, sink)
	if err != nil {
		b.Fatal(err)
	}
	return p, sink
}

// benchExec is an exec as the kernel side decodes it: fresh strings, argv
// unique per process.
func benchExec(now uint64, pid, ppid uint32, start, pstart uint64, i int) *event.Exec {
	progs := [...]string{"python3", "nginx", "bash", "node", "java"}
	prog := progs[i%len(progs)]
	return &event.Exec{
		Time: now, StartTime: start, TGID: pid, PID: pid, PPID: ppid, ParentStartTime: pstart,
		UID: 1000, GID: 1000, LoginUID: 4294967295,
		Comm: string([]byte(prog)), Exe: "/usr/bin/" + prog,
		Args: []string{"/usr/bin/" + prog, "--config=/etc/app/config.yaml", "--worker-id=" + strconv.Itoa(i)},
		Cwd:  "/srv/" + prog, CgroupID: 77, PidNS: benchNS, NSPID: pid, ParentPidNS: benchNS,
	}
}

// BenchmarkHandleExec is the pipeline's cost of one short-lived command:
// its fork, exec (→ one command record) and exit events, of a child of
// one of 64 parents. The events are built before the timer runs, as the
// decoder hands them over (its own cost: collector/kernel's
// BenchmarkDecode*). Without redaction rules it shows what masking
// secrets costs.
func BenchmarkHandleExec(b *testing.B) {
	b.Run("redaction=default", func(b *testing.B) { benchHandleExec(b, nil) })
	b.Run("redaction=none", func(b *testing.B) { benchHandleExec(b, []redact.Rule{}) })
}

func benchHandleExec(b *testing.B, rules []redact.Rule) {
	p, sink := newBenchPipeline(b, rules)
	ctx := context.Background()
	now := uint64(1e9)
	const parents = 64
	for i := range parents {
		now += 1000
		if err := p.Handle(ctx, event.Event{Kind: event.KindExec, Exec: benchExec(now, uint32(100+i), 1, now, 0, i)}); err != nil {
			b.Fatal(err)
		}
	}
	const batch = 1024
	evs := make([]event.Event, 0, 3*batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		b.StopTimer()
		evs = evs[:0]
		for j := 0; j < batch; j++ {
			k := i + j
			ppid := uint32(100 + k%parents)
			pstart := uint64(1e9) + uint64(k%parents+1)*1000
			pid := uint32(1000 + k%4_000_000)
			now += 100_000 // 10k processes a second of event time
			start := now
			evs = append(evs,
				event.Event{Kind: event.KindFork, Fork: &event.Fork{Time: now, ParentTGID: ppid, ParentStartTime: pstart,
					ChildTGID: pid, ChildStartTime: start, CgroupID: 77, PidNS: benchNS, NSPID: pid}},
				event.Event{Kind: event.KindExec, Exec: benchExec(now+10_000, pid, ppid, start, pstart, k)},
				event.Event{Kind: event.KindExit, Exit: &event.Exit{Time: now + 20_000, TGID: pid, StartTime: start}})
		}
		n := min(batch, b.N-i)
		b.StartTimer()
		for _, ev := range evs[:3*n] {
			if err := p.Handle(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
		i += n
	}
	b.StopTimer()
	if got := sink.Records(); got != uint64(b.N+parents) {
		b.Fatalf("%d records, want %d", got, b.N+parents)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(3*b.N), "ns/event")
}

// BenchmarkHandleConn is the cost of one connection: its record,
// attributed to a known process.
func BenchmarkHandleConn(b *testing.B) {
	p, sink := newBenchPipeline(b, nil)
	ctx := context.Background()
	const procs = 64
	for i := range procs {
		if err := p.Handle(ctx, event.Event{Kind: event.KindExec, Exec: benchExec(uint64(1000+i), uint32(100+i), 1, uint64(1000+i), 0, i)}); err != nil {
			b.Fatal(err)
		}
	}
	conns := make([]event.Conn, 1024)
	for i := range conns {
		conns[i] = event.Conn{Time: uint64(1e9 + i), TGID: uint32(100 + i%procs), StartTime: uint64(1000 + i%procs), Comm: "python3",
			Op: event.OpConnect, Proto: "tcp", CgroupID: 77,
			Local:  netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(40000+i)),
			Remote: netip.MustParseAddrPort("10.96.0.10:443")}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Handle(ctx, event.Event{Kind: event.KindConn, Conn: &conns[i%len(conns)]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := sink.Records(); got != uint64(b.N+procs) {
		b.Fatalf("%d records, want %d", got, b.N+procs)
	}
}
