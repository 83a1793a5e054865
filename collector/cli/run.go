package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/activityaudit/activityaudit/collector/container"
	"github.com/activityaudit/activityaudit/collector/event"
	"github.com/activityaudit/activityaudit/collector/hostinfo"
	"github.com/activityaudit/activityaudit/collector/kernel"
	"github.com/activityaudit/activityaudit/collector/pipeline"
	"github.com/activityaudit/activityaudit/collector/proctable"
	"github.com/activityaudit/activityaudit/pkg/filter"
)

// filtersFlag is a repeatable filter flag.
type filtersFlag []filter.Filter

func (f *filtersFlag) String() string { return fmt.Sprint(len(*f), " filters") }

func (f *filtersFlag) Set(v string) error {
	flt, err := filter.Parse(v)
	if err != nil {
		return err
	}
	*f = append(*f, flt)
	return nil
}

// runCapture records this node's commands and connections.
func runCapture(ctx context.Context, args []string, stdio IO) error {
	fs := newFlagSet("run", "", stdio.Err)
	sink := fs.String("sink", "stdout", "where records go: stdout (NDJSON of full records)")
	cluster := fs.String("cluster", "", "cluster name put on every record")
	ringBytes := fs.Int("ring-bytes", 16<<20, "size of the kernel ring buffer (a power of two)")
	auditID := fs.Bool("exec-audit-id", true, "read KUBERNETES_EXEC_AUDIT_ID from the environment of container-entry processes")
	var include, exclude filtersFlag
	fs.Var(&include, "include", "record only what matches this filter (repeatable: any matches)")
	fs.Var(&exclude, "exclude", "drop what matches this filter (repeatable), e.g. --exclude 'comm=\"pause\"'")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("run takes no arguments")
	}
	if *sink != "stdout" {
		return usageError("unknown --sink %q: use stdout", *sink)
	}
	if os.Geteuid() != 0 {
		return errors.New("capture needs root (or CAP_BPF, CAP_PERFMON, CAP_SYS_RESOURCE and CAP_SYS_PTRACE): run it with sudo")
	}
	log := slog.New(slog.NewTextHandler(stdio.Err, nil))
	host, err := hostinfo.Read()
	if err != nil {
		return err
	}
	table, err := proctable.New(proctable.Config{Node: host.Host})
	if err != nil {
		return err
	}
	if err := table.Bootstrap(); err != nil {
		return fmt.Errorf("read running processes: %w", err)
	}
	kc, err := kernel.Open(kernel.Options{RingBytes: *ringBytes, ExecAuditID: *auditID})
	if err != nil {
		return err
	}
	defer kc.Close()
	p, err := pipeline.New(pipeline.Config{Cluster: *cluster, Host: host, Include: include, Exclude: exclude},
		table, container.NewResolver(""), pipeline.NewNDJSON(stdio.Out))
	if err != nil {
		return err
	}
	log.Info("capturing", "host", host.Host, "processes", table.Len())
	events := make(chan event.Event, 4096)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return kc.Run(ctx, events) })
	g.Go(func() error { return p.Run(ctx, events) })
	g.Go(func() error {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				st := p.Stats()
				drops, _ := kc.Drops()
				log.Info("capture stats", "cmd", st.Captured["cmd"], "net", st.Captured["net"], "filtered", st.Filtered,
					"redacted", st.Redacted, "kernel_drops", drops.RingFull, "processes", table.Len())
			}
		}
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
