// Command capturebench measures capture as users run it: `collector run
// --sink stdout` as a child process whose output it reads and counts,
// while it makes load the collector must record. Run it as root from the
// repository's root. Modes:
//
//   - exec: N spawner processes fork+exec /bin/true as fast as they can
//     for a while, three times: with no tracer (the baseline rate), with
//     the collector, and with the collector and Debian's execsnoop
//     (libbpf-tools) side by side. Reports execs done, records seen, kernel
//     ring drops, the collector's CPU and the storm's slowdown.
//   - slowdown: pairs of short exec storms, without and with the
//     collector in alternating order, for the storm's slowdown as the
//     median of the pairs (a shared machine's load drifts too much for one
//     long storm each), and the share of the spawners' time spent in the
//     collector's BPF programs.
//   - connect: N client processes connect to a loopback TCP listener at a
//     total rate (0: as fast as they can); reports connects and accepts done
//     against the connection records seen.
//   - rss: the collector's RSS with many live processes (sleeping
//     busybox processes), raising kernel.pid_max for the run if needed.
//
// Examples:
//
//	go build -o /tmp/collector ./collector
//	go run ./bench/capturebench -collector /tmp/collector -mode exec -loops 1,2,4 -duration 60s
//	go run ./bench/capturebench -collector /tmp/collector -mode slowdown -loops 1,2 -pairs 8 -duration 10s
//	go run ./bench/capturebench -collector /tmp/collector -mode connect -rate 20000 -loops 2 -duration 30s
//	go run ./bench/capturebench -collector /tmp/collector -mode rss -procs 10000,50000
//	go run ./bench/capturebench -collector old=/tmp/collector-old,new=/tmp/collector -mode exec -baselines 2
//
// Several collectors (-collector label=path,...) are measured one after
// another in each storm's turn, against the same baseline, so that a
// machine whose load changes over time compares them fairly; -baselines 2
// measures the baseline again after them and compares with the mean.
// Collector CPU is also reported per exec (per record for connect), which
// depends less on how busy the machine is than a share of a core; with
// -together the collectors run side by side through the same storms, so
// that their CPU compares under exactly the same load:
//
//	go run ./bench/capturebench -collector old=/tmp/collector-old,new=/tmp/collector -mode exec -together
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if child := os.Getenv(childEnv); child != "" {
		os.Exit(runChild(child))
	}
	mode := flag.String("mode", "exec", "what to measure: exec, slowdown, connect or rss")
	bin := flag.String("collector", "", "the collector binary, or comma-separated label=path pairs to compare (default: built from ./collector into a temporary directory)")
	baselines := flag.Int("baselines", 1, "exec: no-tracer storms per loop count, 1 (before the tracers) or 2 (also after them)")
	together := flag.Bool("together", false, "exec: run the collectors side by side through the same storms (CPU only, no baseline or execsnoop)")
	pairs := flag.Int("pairs", 8, "slowdown: pairs of storms (without, with the collector) per loop count")
	loops := flag.String("loops", "1,2,4", "comma-separated numbers of spawner or client processes, one run each")
	duration := flag.Duration("duration", 60*time.Second, "length of each storm")
	rate := flag.Int("rate", 20_000, "connect: total connections a second (0: as fast as possible)")
	snoop := flag.Bool("execsnoop", true, "exec: also run a storm watched by the collector and execsnoop side by side")
	procs := flag.String("procs", "10000,50000", "rss: comma-separated numbers of live processes to reach")
	maxProcs := flag.Int("gomaxprocs", 0, "GOMAXPROCS of the collector (0: the Go default, one per CPU)")
	flag.Parse()

	cfg := config{mode: *mode, duration: *duration, rate: *rate, execsnoop: *snoop, gomaxprocs: *maxProcs, baselines: *baselines, together: *together, pairs: *pairs}
	if *baselines != 1 && *baselines != 2 {
		log.Fatalf("capturebench: -baselines %d: want 1 or 2", *baselines)
	}
	if *pairs < 1 {
		log.Fatalf("capturebench: -pairs %d: want at least 1", *pairs)
	}
	var err error
	if cfg.collectors, err = collectorList(*bin); err != nil {
		log.Fatalf("capturebench: -collector: %v", err)
	}
	if cfg.loops, err = intList(*loops); err != nil {
		log.Fatalf("capturebench: -loops: %v", err)
	}
	if cfg.procs, err = intList(*procs); err != nil {
		log.Fatalf("capturebench: -procs: %v", err)
	}
	if err := run(cfg); err != nil {
		log.Fatalf("capturebench: %v", err)
	}
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("parse %q: want positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// collectorList parses -collector: a path, or label=path pairs.
func collectorList(s string) ([]collectorBin, error) {
	if s == "" {
		return []collectorBin{{label: "collector"}}, nil
	}
	var out []collectorBin
	for _, f := range strings.Split(s, ",") {
		label, path, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			label, path = "collector", label
		}
		if path == "" {
			return nil, fmt.Errorf("parse %q: empty path", s)
		}
		out = append(out, collectorBin{label: label, path: path})
	}
	if len(out) > 1 {
		for i := range out {
			out[i].label = "collector " + out[i].label
		}
	}
	return out, nil
}
