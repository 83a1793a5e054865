package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/collector/event"
)

// execRow is one exec storm.
type execRow struct {
	loops   int
	tracers string
	d       time.Duration
	done    uint64
	rate    float64
	// seen by the collector and execsnoop (-1: not running)
	seen, snoopSeen int64
	// the collector's ring-full drops of exec events, and of all kinds
	execDrops, allDrops uint64
	// snoopLost is what execsnoop reported lost on stderr
	snoopLost uint64
	// CPU used from the storm's start until the tracers had drained it
	cpu, snoopCPU time.Duration
	// bpf is the time the kernel ran the collector's programs (-1: not
	// measured), snoopBPF execsnoop's
	bpf, snoopBPF time.Duration
	// stormCPU is the CPU the spawners and their /bin/true children used:
	// the kernel's time in the programs is charged to them
	stormCPU time.Duration
	// irqWork is the IRQ work interrupts during the storm (ring buffer
	// wake-ups are sent that way)
	irqWork uint64
	load    string
	// records is every record the collector wrote during the storm, the
	// storm's and those of whatever else ran on the machine
	records uint64
}

func runExec(cfg config) error {
	var snoopBin string
	if cfg.execsnoop {
		var err error
		if snoopBin, err = exec.LookPath("execsnoop"); err != nil {
			return fmt.Errorf("find execsnoop (Debian package libbpf-tools): %w", err)
		}
	}
	var rows []execRow
	for _, n := range cfg.loops {
		base, err := execStorm(n, cfg.duration, tracers{})
		if err != nil {
			return err
		}
		rows = append(rows, base)
		printExecRow(base, base)
		for _, bin := range cfg.collectors {
			r, err := execStorms(cfg, bin, n, snoopBin, base)
			rows = append(rows, r...)
			if err != nil {
				return err
			}
		}
		if cfg.baselines == 2 {
			again, err := execStorm(n, cfg.duration, tracers{})
			if err != nil {
				return err
			}
			rows = append(rows, again)
			printExecRow(again, base)
		}
	}
	fmt.Println()
	fmt.Println("Slowdown is against the mean of the loop count's baselines (the rows without tracers).")
	fmt.Println()
	fmt.Println("Collector CPU per record counts every record it wrote during the storm, other processes' too.")
	fmt.Println()
	fmt.Println("| loops | tracers | load before | exec/s | execs | collector saw | execsnoop saw | lost (done − seen) | ring drops exec / all | collector CPU, % of a core | per 1,000 exec/s | collector CPU, µs per exec | records written (all) | collector CPU, µs per record | BPF programs, µs per exec | IRQ work per exec | storm slowdown |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(execTableRow(r, meanBase(rows, r.loops)))
	}
	return nil
}

// execStorms runs the storms of one collector binary: with the collector,
// then with the collector and execsnoop.
func execStorms(cfg config, bin collectorBin, n int, snoopBin string, base execRow) ([]execRow, error) {
	var rows []execRow
	col, err := startCollector(cfg, bin)
	if err != nil {
		return nil, err
	}
	defer col.stop()
	drops, err := openDrops(col.pid())
	if err != nil {
		return nil, err
	}
	defer drops.Close()
	progs, err := openPrograms(col.pid())
	if err != nil {
		return nil, err
	}
	defer progs.Close()
	w := tracers{col: col, label: bin.label, drops: drops, progs: progs}
	idle, err := idleCPU(col.pid(), 10*time.Second)
	if err != nil {
		return nil, err
	}
	fmt.Printf("%s idle: %.2f%% of a core\n", bin.label, 100*idle)
	r, err := execStorm(n, cfg.duration, w)
	if err != nil {
		return nil, err
	}
	rows = append(rows, r)
	printExecRow(r, base)
	if !cfg.execsnoop {
		return rows, nil
	}
	snoop, err := start("execsnoop", exec.Command("stdbuf", "-oL", snoopBin), func(line string) bool {
		return strings.HasPrefix(line, "PCOMM")
	})
	if err != nil {
		return rows, err
	}
	w.snoop = snoop
	if w.snoopProgs, err = openPrograms(snoop.pid()); err != nil {
		fmt.Printf("execsnoop's programs: %v\n", err)
	}
	r, err = execStorm(n, cfg.duration, w)
	if w.snoopProgs != nil {
		w.snoopProgs.Close()
	}
	snoop.stop()
	r.snoopLost = lostReported(snoop.errText())
	if err != nil {
		return rows, err
	}
	rows = append(rows, r)
	printExecRow(r, base)
	return rows, nil
}

// meanBase is the baseline of a loop count: the mean rate of its storms
// without tracers.
func meanBase(rows []execRow, loops int) execRow {
	var sum float64
	n := 0
	for _, r := range rows {
		if r.loops == loops && r.tracers == "none" {
			sum += r.rate
			n++
		}
	}
	if n == 0 {
		return execRow{}
	}
	return execRow{loops: loops, tracers: "none", rate: sum / float64(n)}
}

// tracers watch a storm; any may be nil.
type tracers struct {
	col        *watched
	label      string // the collector's name in the tables
	drops      *dropCounters
	progs      *bpfPrograms
	snoop      *watched
	snoopProgs *bpfPrograms
}

// execStorm runs loops spawners for d, watched by w.
func execStorm(loops int, d time.Duration, w tracers) (execRow, error) {
	col, drops, snoop := w.col, w.drops, w.snoop
	r := execRow{loops: loops, tracers: "none", d: d, seen: -1, snoopSeen: -1, bpf: -1, load: loadavg()}
	m := marker("exec")
	var colPats, snoopPats *patterns
	counts := []func() uint64{}
	if col != nil {
		r.tracers = w.label
		colPats = newPatterns([]string{`"cmdline":"/bin/true ` + m + `"`})
		col.watch(colPats)
		counts = append(counts, func() uint64 { return colPats.count(0) })
	}
	if snoop != nil {
		r.tracers = w.label + " + execsnoop"
		snoopPats = newPatterns([]string{"/bin/true " + m})
		snoop.watch(snoopPats)
		counts = append(counts, func() uint64 { return snoopPats.count(0) })
	}
	var drops0 map[event.Kind]uint64
	if drops != nil {
		var err error
		if drops0, err = drops.read(); err != nil {
			return r, err
		}
	}
	ch, err := startChildren("spawn", loops, d, markerEnv+"="+m)
	if err != nil {
		return r, err
	}
	time.Sleep(time.Until(ch.start))
	cpu0, scpu0 := procCPU(col), procCPU(snoop)
	var lines0 uint64
	if col != nil {
		lines0 = col.lines.Load()
	}
	var bpf0, sbpf0 time.Duration
	var each0 map[string]time.Duration
	if w.progs != nil {
		bpf0, each0 = w.progs.runtime()
	}
	if w.snoopProgs != nil {
		sbpf0, _ = w.snoopProgs.runtime()
	}
	iwi0 := irqWork()
	outs, err := ch.wait()
	if err != nil {
		return r, fmt.Errorf("exec storm: %w", err)
	}
	for _, o := range outs {
		n, err := strconv.ParseUint(o, 10, 64)
		if err != nil {
			return r, fmt.Errorf("exec storm: spawner printed %q", o)
		}
		r.done += n
	}
	r.rate = float64(r.done) / d.Seconds()
	r.stormCPU = ch.cpu()
	r.irqWork = irqWork() - iwi0
	if len(counts) > 0 {
		settle(r.done, 3*time.Second, time.Minute, counts...)
	}
	r.cpu, r.snoopCPU = procCPU(col)-cpu0, procCPU(snoop)-scpu0
	if col != nil {
		r.records = col.lines.Load() - lines0
	}
	if w.progs != nil {
		bpf1, each1 := w.progs.runtime()
		r.bpf = bpf1 - bpf0
		var parts []string
		for name, d := range each1 {
			if us := float64((d - each0[name]).Microseconds()) / float64(r.done); us >= 0.05 {
				parts = append(parts, fmt.Sprintf("%s %.1f", name, us))
			}
		}
		slices.Sort(parts)
		fmt.Printf("collector's BPF programs, µs per exec: %s\n", strings.Join(parts, ", "))
	}
	if w.snoopProgs != nil {
		sbpf1, _ := w.snoopProgs.runtime()
		r.snoopBPF = sbpf1 - sbpf0
		fmt.Printf("execsnoop's BPF programs: %.1f µs per exec\n", float64(r.snoopBPF.Microseconds())/float64(r.done))
	}
	fmt.Printf("IRQ work interrupts: %.2f per exec\n", float64(r.irqWork)/float64(r.done))
	if colPats != nil {
		r.seen = int64(colPats.count(0))
	}
	if snoopPats != nil {
		r.snoopSeen = int64(snoopPats.count(0))
	}
	if drops != nil {
		drops1, err := drops.read()
		if err != nil {
			return r, err
		}
		for k, v := range drops1 {
			r.allDrops += v - drops0[k]
		}
		r.execDrops = drops1[event.KindExec] - drops0[event.KindExec]
	}
	return r, nil
}

// procCPU is a watched process's CPU time so far (0 for none).
func procCPU(w *watched) time.Duration {
	if w == nil {
		return 0
	}
	c, _ := cpu(w.pid())
	return c
}

// idleCPU is the share of a core a process uses over d.
func idleCPU(pid int, d time.Duration) (float64, error) {
	c0, err := cpu(pid)
	if err != nil {
		return 0, err
	}
	time.Sleep(d)
	c1, err := cpu(pid)
	if err != nil {
		return 0, err
	}
	return float64(c1-c0) / float64(d), nil
}

var lostRE = regexp.MustCompile(`(?i)lost (\d+) events`)

// lostReported adds up execsnoop's "Lost N events on CPU #i" lines.
func lostReported(stderr string) uint64 {
	var n uint64
	for _, m := range lostRE.FindAllStringSubmatch(stderr, -1) {
		v, _ := strconv.ParseUint(m[1], 10, 64)
		n += v
	}
	return n
}

func printExecRow(r, base execRow) {
	fmt.Printf("exec storm (load before: %s): %s\n", r.load, execTableRow(r, base))
}

func execTableRow(r, base execRow) string {
	seen, snoop, lost, drops, cpuPct, per1k, perExec, records, perRecord, bpf, slow := "—", "—", "—", "—", "—", "—", "—", "—", "—", "—", "—"
	if r.bpf > 0 && r.done > 0 {
		bpf = fmt.Sprintf("%.1f", float64(r.bpf.Microseconds())/float64(r.done))
	}
	if r.seen >= 0 {
		seen = fmt.Sprint(r.seen)
		lost = fmt.Sprint(int64(r.done) - r.seen)
		drops = fmt.Sprintf("%d / %d", r.execDrops, r.allDrops)
		pct := 100 * r.cpu.Seconds() / r.d.Seconds()
		cpuPct = fmt.Sprintf("%.1f", pct)
		per1k = fmt.Sprintf("%.2f", pct/(r.rate/1000))
		if r.done > 0 {
			perExec = fmt.Sprintf("%.1f", float64(r.cpu.Microseconds())/float64(r.done))
		}
		records = fmt.Sprint(r.records)
		if r.records > 0 {
			perRecord = fmt.Sprintf("%.1f", float64(r.cpu.Microseconds())/float64(r.records))
		}
	}
	if r.snoopSeen >= 0 {
		snoop = fmt.Sprintf("%d (CPU %.1f%%, reported lost %d)", r.snoopSeen, 100*r.snoopCPU.Seconds()/r.d.Seconds(), r.snoopLost)
	}
	if r.tracers != "none" && base.rate > 0 {
		slow = fmt.Sprintf("%.1f%%", 100*(1-r.rate/base.rate))
	}
	iwi := "—"
	if r.done > 0 {
		iwi = fmt.Sprintf("%.2f", float64(r.irqWork)/float64(r.done))
	}
	return fmt.Sprintf("| %d | %s | %s | %.0f | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |",
		r.loops, r.tracers, r.load, r.rate, r.done, seen, snoop, lost, drops, cpuPct, per1k, perExec, records, perRecord, bpf, iwi, slow)
}

// irqWork is the IRQ work interrupts so far, all CPUs (/proc/interrupts IWI).
func irqWork() uint64 {
	b, err := os.ReadFile("/proc/interrupts")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "IWI:" {
			continue
		}
		var n uint64
		for _, v := range f[1:] {
			c, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				break
			}
			n += c
		}
		return n
	}
	return 0
}
