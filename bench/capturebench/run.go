package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// collectorBin is a collector binary to measure, and its name in the
// tables.
type collectorBin struct{ label, path string }

type config struct {
	mode       string
	collectors []collectorBin
	baselines  int
	together   bool // exec: collectors side by side
	pairs      int  // slowdown: storm pairs per loop count
	loops      []int
	duration   time.Duration
	rate       int
	execsnoop  bool
	procs      []int
	// gomaxprocs is the collector's GOMAXPROCS (0: Go's default).
	gomaxprocs int
}

func run(cfg config) error {
	if os.Geteuid() != 0 {
		return errors.New("capture needs root: run it with sudo")
	}
	if cfg.collectors[0].path == "" {
		dir, err := os.MkdirTemp("", "capturebench")
		if err != nil {
			return fmt.Errorf("make build directory: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.collectors[0].path = filepath.Join(dir, "collector")
		if out, err := exec.Command("go", "build", "-o", cfg.collectors[0].path, "./collector").CombinedOutput(); err != nil {
			return fmt.Errorf("build collector: %w: %s", err, out)
		}
	}
	// The in-kernel run time of the collector's programs is counted from
	// here on (kernel.bpf_stats_enabled, back off when closed).
	if stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME); err != nil {
		fmt.Printf("# no BPF run-time statistics: %v\n", err)
	} else {
		defer stats.Close()
	}
	fmt.Printf("# %s, %d CPUs, load %s, collector GOMAXPROCS %s\n", time.Now().UTC().Format(time.RFC3339), numCPU(), loadavg(), gomaxprocsText(cfg.gomaxprocs))
	switch cfg.mode {
	case "exec":
		if cfg.together {
			return runExecTogether(cfg)
		}
		return runExec(cfg)
	case "slowdown":
		return runSlowdown(cfg)
	case "connect":
		return runConnect(cfg)
	case "rss":
		return runRSS(cfg)
	}
	return fmt.Errorf("unknown -mode %q: use exec, slowdown, connect or rss", cfg.mode)
}

// startCollector runs `collector run --sink stdout`, counting its output
// lines against patterns, until it reports that it captures.
func startCollector(cfg config, bin collectorBin) (*watched, error) {
	cmd := exec.Command(bin.path, "run", "--sink", "stdout")
	if cfg.gomaxprocs > 0 {
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(cfg.gomaxprocs))
	}
	return start("collector", cmd, func(line string) bool {
		return strings.Contains(line, "msg=capturing")
	})
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\nprocessor") + 1
}

// marker is a string no other process will have in its command line.
func marker(what string) string {
	return fmt.Sprintf("capturebench-%s-%d-%d", what, os.Getpid(), time.Now().UnixNano())
}

func gomaxprocsText(n int) string {
	if n == 0 {
		return "default"
	}
	return strconv.Itoa(n)
}
