package proctable

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/activityaudit/activityaudit/collector/event"
)

// benchExec is an exec as the decoder would hand it: fresh strings each
// time (so interning is exercised), argv unique per process.
func benchExec(now uint64, pid, ppid uint32, start, pstart uint64, i int) *event.Exec {
	progs := [...]string{"python3", "nginx", "bash", "node", "java"}
	prog := progs[i%len(progs)]
	return &event.Exec{
		Time: now, StartTime: start, TGID: pid, PID: pid, PPID: ppid, ParentStartTime: pstart,
		UID: 1000, GID: 1000, LoginUID: 4294967295,
		Comm: string([]byte(prog)), Exe: "/usr/bin/" + prog,
		Args: []string{"/usr/bin/" + prog, "--config=/etc/app/config.yaml", "--worker-id=" + strconv.Itoa(i)},
		Cwd:  "/srv/" + prog, CgroupID: 4242, PidNS: hostNS, NSPID: pid, ParentPidNS: hostNS,
	}
}

// BenchmarkEvents is the cost of one event: each op is a Fork, an Exec and
// an Exit of a short-lived child of one of 64 parents.
func BenchmarkEvents(b *testing.B) {
	tab, err := New(Config{Node: node, HostPidNS: hostNS, CgroupRoot: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	now := uint64(1e9)
	const parents = 64
	for i := 0; i < parents; i++ {
		now += 1000
		tab.Exec(benchExec(now, uint32(100+i), 1, now, 0, i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ppid := uint32(100 + i%parents)
		pstart := uint64(1e9) + uint64(i%parents+1)*1000
		pid := uint32(1000 + i%4_000_000)
		now += 100_000 // 10k processes a second
		start := now
		tab.Fork(&event.Fork{Time: now, ParentTGID: ppid, ParentStartTime: pstart, ChildTGID: pid, ChildStartTime: start,
			CgroupID: 4242, PidNS: hostNS, NSPID: pid})
		now += 10_000
		tab.Exec(benchExec(now, pid, ppid, start, pstart, i))
		now += 10_000
		tab.Exit(&event.Exit{Time: now, TGID: pid, StartTime: start})
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(3*b.N), "ns/event")
	b.ReportMetric(float64(tab.Len()), "kept")
}

// BenchmarkLookup is a connection's lookup by pid and start time.
func BenchmarkLookup(b *testing.B) {
	tab, _ := New(Config{Node: node, HostPidNS: hostNS, CgroupRoot: b.TempDir()})
	const n = 10_000
	for i := 0; i < n; i++ {
		tab.Exec(benchExec(uint64(i+1), uint32(100+i), 1, uint64(i+1), 0, i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % n
		if _, ok := tab.Lookup(uint32(100+j), uint64(j+1)); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkMemory measures the heap a table of live processes takes beyond
// an empty one: a realistic tree (64 long-lived parents, each process
// forked then exec'd with its own argv).
func BenchmarkMemory(b *testing.B) {
	for _, n := range []int{10_000, 50_000} {
		b.Run("live="+strconv.Itoa(n), func(b *testing.B) {
			var perProc float64
			for i := 0; i < b.N; i++ {
				perProc = measure(b, n)
			}
			b.ReportMetric(perProc, "bytes/process")
			b.ReportMetric(perProc*10_000/1e6, "MB/10k")
		})
	}
}

func measure(b *testing.B, n int) float64 {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tab, err := New(Config{Node: node, HostPidNS: hostNS, CgroupRoot: "/nonexistent"})
	if err != nil {
		b.Fatal(err)
	}
	now := uint64(1e9)
	const parents = 64
	for i := 0; i < parents; i++ {
		now += 1000
		tab.Exec(benchExec(now, uint32(100+i), 1, now, 0, i))
	}
	for i := 0; i < n-parents; i++ {
		ppid := uint32(100 + i%parents)
		pstart := uint64(1e9) + uint64(i%parents+1)*1000
		pid := uint32(1000 + i)
		now += 1000
		tab.Fork(&event.Fork{Time: now, ParentTGID: ppid, ParentStartTime: pstart, ChildTGID: pid, ChildStartTime: now,
			CgroupID: 4242, PidNS: hostNS, NSPID: pid})
		tab.Exec(benchExec(now+1, pid, ppid, now, pstart, i))
	}
	if tab.Len() != n {
		b.Fatalf("Len() = %d, want %d", tab.Len(), n)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(tab)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}
