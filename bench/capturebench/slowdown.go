package main

import (
	"fmt"
	"slices"
	"time"
)

// runSlowdown measures what capture costs the processes it watches: for
// each loop count, -pairs pairs of short exec storms, one without any
// tracer and one with the collector (started before its storm and
// stopped after, so the baseline runs with no program attached), in
// alternating order (ABBA) so that a machine whose load drifts weighs on
// both sides alike. Reports, for every pair and as medians: the slowdown
// of the storm's rate; the extra CPU each exec cost the storm (the
// spawners' and their children's CPU time, in which the kernel charges
// the programs' run time: steadier than the rate, which other load on the
// machine moves); and the share of the spawners' time spent in the
// collector's programs.
func runSlowdown(cfg config) error {
	bin := cfg.collectors[0]
	fmt.Println("| loops | pair | order | exec/s without | exec/s with | slowdown | storm CPU µs per exec without | with | extra CPU per exec | BPF programs, µs per exec | BPF share of the spawners' time |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	type summary struct {
		loops      int
		slow       []float64
		extraCPU   []float64
		bpfShare   []float64
		base, with []float64
	}
	var sums []summary
	for _, n := range cfg.loops {
		s := summary{loops: n}
		for i := range cfg.pairs {
			colFirst := i%2 == 1
			var base, with execRow
			var err error
			for _, withCol := range []bool{colFirst, !colFirst} {
				if !withCol {
					if base, err = execStorm(n, cfg.duration, tracers{}); err != nil {
						return err
					}
					continue
				}
				if with, err = stormWithCollector(cfg, bin, n); err != nil {
					return err
				}
			}
			slow := 1 - with.rate/base.rate
			cpuBase := base.stormCPU.Seconds() / float64(base.done)
			cpuWith := with.stormCPU.Seconds() / float64(with.done)
			extra := cpuWith/cpuBase - 1
			// Each of the n spawners runs its execs one after another:
			// its time per exec is n/rate, of which the programs took bpf.
			bpfPerExec := with.bpf.Seconds() / float64(with.done)
			share := bpfPerExec * with.rate / float64(n)
			order := "without, with"
			if colFirst {
				order = "with, without"
			}
			fmt.Printf("| %d | %d | %s | %.0f | %.0f | %.1f%% | %.1f | %.1f | %.1f%% | %.1f | %.2f%% |\n",
				n, i+1, order, base.rate, with.rate, 100*slow, 1e6*cpuBase, 1e6*cpuWith, 100*extra, 1e6*bpfPerExec, 100*share)
			s.slow = append(s.slow, slow)
			s.extraCPU = append(s.extraCPU, extra)
			s.bpfShare = append(s.bpfShare, share)
			s.base = append(s.base, base.rate)
			s.with = append(s.with, with.rate)
		}
		sums = append(sums, s)
	}
	fmt.Println()
	fmt.Println("| loops | pairs | exec/s without (median) | exec/s with (median) | slowdown, median of pairs | slowdown, range | extra storm CPU per exec, median | range | BPF share of the spawners' time (median) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, s := range sums {
		fmt.Printf("| %d | %d | %.0f | %.0f | %.1f%% | %.1f%% to %.1f%% | %.1f%% | %.1f%% to %.1f%% | %.2f%% |\n", s.loops, len(s.slow),
			median(s.base), median(s.with), 100*median(s.slow), 100*slices.Min(s.slow), 100*slices.Max(s.slow),
			100*median(s.extraCPU), 100*slices.Min(s.extraCPU), 100*slices.Max(s.extraCPU), 100*median(s.bpfShare))
	}
	return nil
}

// stormWithCollector runs one exec storm with the collector running.
func stormWithCollector(cfg config, bin collectorBin, n int) (execRow, error) {
	col, err := startCollector(cfg, bin)
	if err != nil {
		return execRow{}, err
	}
	defer col.stop()
	progs, err := openPrograms(col.pid())
	if err != nil {
		return execRow{}, err
	}
	defer progs.Close()
	time.Sleep(time.Second) // past the start-up's own reads of /proc
	r, err := execStorm(n, cfg.duration, tracers{col: col, label: bin.label, progs: progs})
	if err != nil {
		return r, err
	}
	if r.seen != int64(r.done) {
		return r, fmt.Errorf("collector saw %d of %d execs", r.seen, r.done)
	}
	return r, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
