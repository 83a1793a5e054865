package main

import (
	"fmt"
	"strconv"
	"time"
)

// runExecTogether runs every collector at once, side by side, through the
// same storms: each sees the same execs on the same busy machine, so
// their CPU per exec compares without the noise of a machine whose load
// changes from one storm to the next. The storm's slowdown is then that of
// all of them together, and is not reported.
func runExecTogether(cfg config) error {
	var cols []*watched
	defer func() {
		for _, c := range cols {
			c.stop()
		}
	}()
	for _, bin := range cfg.collectors {
		c, err := startCollector(cfg, bin)
		if err != nil {
			return err
		}
		cols = append(cols, c)
	}
	cpu0 := make([]time.Duration, len(cols))
	for i, c := range cols {
		cpu0[i] = procCPU(c)
	}
	time.Sleep(10 * time.Second)
	for i, c := range cols {
		fmt.Printf("%s idle: %.2f%% of a core\n", cfg.collectors[i].label, 100*(procCPU(c)-cpu0[i]).Seconds()/10)
	}
	fmt.Println()
	fmt.Println("| loops | load before | exec/s | execs | collector | saw | records written (all) | collector CPU, % of a core | per 1,000 exec/s | µs per exec | µs per record |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, n := range cfg.loops {
		load := loadavg()
		m := marker("exec")
		pats := make([]*patterns, len(cols))
		lines0 := make([]uint64, len(cols))
		for i, c := range cols {
			pats[i] = newPatterns([]string{`"cmdline":"/bin/true ` + m + `"`})
			c.watch(pats[i])
		}
		ch, err := startChildren("spawn", n, cfg.duration, markerEnv+"="+m)
		if err != nil {
			return err
		}
		time.Sleep(time.Until(ch.start))
		for i, c := range cols {
			cpu0[i], lines0[i] = procCPU(c), c.lines.Load()
		}
		outs, err := ch.wait()
		if err != nil {
			return fmt.Errorf("exec storm: %w", err)
		}
		var done uint64
		for _, o := range outs {
			v, err := strconv.ParseUint(o, 10, 64)
			if err != nil {
				return fmt.Errorf("exec storm: spawner printed %q", o)
			}
			done += v
		}
		var counts []func() uint64
		for _, p := range pats {
			counts = append(counts, func() uint64 { return p.count(0) })
		}
		settle(done, 3*time.Second, time.Minute, counts...)
		rate := float64(done) / cfg.duration.Seconds()
		for i, c := range cols {
			cpu := procCPU(c) - cpu0[i]
			records := c.lines.Load() - lines0[i]
			pct := 100 * cpu.Seconds() / cfg.duration.Seconds()
			perRecord := "—"
			if records > 0 {
				perRecord = fmt.Sprintf("%.1f", float64(cpu.Microseconds())/float64(records))
			}
			fmt.Printf("| %d | %s | %.0f | %d | %s | %d | %d | %.1f | %.2f | %.1f | %s |\n",
				n, load, rate, done, cfg.collectors[i].label, pats[i].count(0), records, pct, pct/(rate/1000),
				float64(cpu.Microseconds())/float64(done), perRecord)
		}
	}
	return nil
}
