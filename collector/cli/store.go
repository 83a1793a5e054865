package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/activityaudit/activityaudit/pkg/store"
	"github.com/activityaudit/activityaudit/pkg/timerange"
)

// storeFlags are the embedded store's flags, shared by `run` and `store`.
type storeFlags struct {
	dataDir   string
	listen    string
	retention string
	maxDisk   string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", defaultDataDir(), "directory of the collector's data: the embedded store (store/), the spool (spool/), the dead-letter file")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:3100", "address of the embedded store's Loki API")
	fs.StringVar(&f.retention, "retention", "7d", "delete records older than this (0 keeps everything)")
	fs.StringVar(&f.maxDisk, "max-disk", "10GiB", "evict the oldest records beyond this size on disk (0: no cap)")
}

func (f *storeFlags) options(log *slog.Logger) (store.Options, error) {
	opts := store.Options{Dir: filepath.Join(f.dataDir, "store"), Listen: f.listen, Logger: log}
	if f.retention != "0" {
		d, err := timerange.ParseDuration(f.retention)
		if err != nil {
			return opts, usageError("--retention: %v", err)
		}
		opts.Retention = d
	}
	n, err := parseBytes(f.maxDisk)
	if err != nil {
		return opts, usageError("--max-disk: %v", err)
	}
	opts.MaxDiskBytes = n
	return opts, nil
}

// defaultDataDir is /var/lib/activity-audit for root, else under the user's
// data directory.
func defaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/activity-audit"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "activity-audit")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "activity-audit")
	}
	return "activity-audit-data"
}

// parseBytes reads sizes like 512MiB, 10GiB, 1GB or a plain byte count.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := int64(1)
	num := s
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			mult, num = u.mult, strings.TrimSuffix(s, u.suffix)
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(num, &n); err != nil || n < 0 || fmt.Sprint(n) != strings.TrimSpace(num) {
		return 0, fmt.Errorf("bad size %q: want e.g. 512MiB or 10GiB", s)
	}
	return n * mult, nil
}

// runStore runs the embedded store alone.
func runStore(ctx context.Context, args []string, stdio IO) error {
	fs := newFlagSet("store", "", stdio.Err)
	var sf storeFlags
	sf.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("store takes no arguments")
	}
	log := slog.New(slog.NewTextHandler(stdio.Err, nil))
	opts, err := sf.options(log)
	if err != nil {
		return err
	}
	s, err := store.Open(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		s.Close()
		return fmt.Errorf("listen store: %w", err)
	}
	fmt.Fprintf(stdio.Err, "Loki API on http://%s (data in %s)\n", ln.Addr(), opts.Dir)
	err = s.Serve(ctx, ln)
	if cerr := s.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
