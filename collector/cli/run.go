package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/collector/agent"
	"github.com/activityaudit/activityaudit/collector/hostinfo"
	"github.com/activityaudit/activityaudit/collector/kernel"
	"github.com/activityaudit/activityaudit/collector/kube"
	"github.com/activityaudit/activityaudit/collector/kubeaudit"
	"github.com/activityaudit/activityaudit/collector/pipeline"
	"github.com/activityaudit/activityaudit/collector/redact"
	"github.com/activityaudit/activityaudit/collector/spool"
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

// redactFlag is the repeatable --redact flag: NAME=REGEX, a redaction
// rule added to (or, with --redact-defaults=false, instead of) the
// built-in ones.
type redactFlag []redact.Rule

func (f *redactFlag) String() string { return fmt.Sprint(len(*f), " rules") }

func (f *redactFlag) Set(v string) error {
	name, pattern, ok := strings.Cut(v, "=")
	if !ok || name == "" || pattern == "" {
		return fmt.Errorf("want NAME=REGEX, got %q", v)
	}
	rule := redact.Rule{Name: name, Pattern: pattern}
	if _, err := redact.New([]redact.Rule{rule}); err != nil {
		return err
	}
	*f = append(*f, rule)
	return nil
}

// rules are the redaction rules to use: the built-in ones (with
// defaults) and those of the flag.
func (f redactFlag) rules(defaults bool) []redact.Rule {
	out := []redact.Rule{} // not nil: nil means the built-in rules
	if defaults {
		out = append(out, redact.DefaultRules...)
	}
	return append(out, f...)
}

// runCapture records this node's commands and connections and ships them.
func runCapture(ctx context.Context, args []string, stdio IO) error {
	fs := newFlagSet("run", "", stdio.Err)
	configFile := fs.String("config", os.Getenv(envPrefix+"CONFIG"), "YAML file of settings (keys are these flags' names); flags, then ACTIVITYAUDIT_<FLAG> environment variables, win over it")
	var conn connFlags
	conn.register(fs, true)
	var sf storeFlags
	sf.register(fs)
	sink := fs.String("sink", "loki", "where records go: loki (--loki-url, or the embedded store) or stdout (NDJSON, no spool)")
	capture := fs.String("capture", "kernel", "record sources, comma-separated: kernel (eBPF, needs root), synthetic (generated load for tests and benchmarks), or none (only kube exec capture)")
	syntheticRate := fs.Int("synthetic-rate", 1000, "synthetic source: records per second")
	syntheticLedger := fs.String("synthetic-ledger", "", "synthetic source: append each record's exec_id to this file once spooled")
	spoolMax := fs.String("spool-max-bytes", "1GiB", "disk the spool may use while Loki is unreachable (about 5 hours at 100 records/s of 600 bytes)")
	spoolFull := fs.String("spool-full", string(spool.DropOldest), "when the spool is full: drop-oldest, drop-newest or block (capture waits; the kernel then drops, counted)")
	metricsListen := fs.String("metrics-listen", "127.0.0.1:2112", "address of /metrics and /healthz (off: none)")
	cluster := fs.String("cluster", "", "cluster name put on every record")
	ringBytes := fs.Int("ring-bytes", 16<<20, "size of the kernel ring buffer (a power of two)")
	readInterval := fs.Duration("read-interval", kernel.DefaultReadInterval, "how often capture reads the kernel ring buffer under load, and so the longest a record waits in it (shorter costs CPU: every read wakes the collector)")
	auditID := fs.Bool("exec-audit-id", true, "read KUBERNETES_EXEC_AUDIT_ID from the environment of container-entry processes")
	kubeMode := fs.String("kube", "auto", "Kubernetes scope: auto (in a pod, or with --kubeconfig), on, off")
	kubeconfig := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig for the Kubernetes API (default: in-cluster config)")
	nodeName := fs.String("node-name", os.Getenv("NODE_NAME"), "this node's name as Kubernetes knows it (spec.nodeName; default: the host name)")
	var audit kubeaudit.Config
	fs.StringVar(&audit.WebhookAddr, "audit-webhook", "", "receive the API server's audit webhook on this address, e.g. 127.0.0.1:9443 (HTTPS; needs --audit-tls-cert, --audit-tls-key and --audit-token-file or --audit-client-ca)")
	fs.StringVar(&audit.TLSCert, "audit-tls-cert", "", "the audit webhook's TLS certificate (PEM)")
	fs.StringVar(&audit.TLSKey, "audit-tls-key", "", "the audit webhook's TLS key (PEM)")
	fs.StringVar(&audit.TokenFile, "audit-token-file", "", "file holding the bearer token the API server sends to the audit webhook")
	fs.StringVar(&audit.ClientCA, "audit-client-ca", "", "CA bundle the API server's client certificate must chain to")
	fs.StringVar(&audit.LogPath, "audit-log", "", "tail the API server's audit log (JSON lines) at this path")
	fs.DurationVar(&audit.Hold, "audit-hold", 5*time.Second, "how long a started kube exec waits for its end before it is recorded without end_time")
	var include, exclude filtersFlag
	fs.Var(&include, "include", "record only what matches this filter (repeatable: any matches)")
	var redactRules redactFlag
	fs.Var(&redactRules, "redact", "mask secrets in command lines with this rule too (repeatable): NAME=REGEX, whose first group is kept and second masked, e.g. --redact 'vault-token=(vault login )(\\S+)'")
	redactDefaults := fs.Bool("redact-defaults", true, "use the built-in redaction rules (password flags, Authorization headers, credentials and tokens in URLs, secret assignments, mysql -p)")
	fs.Var(&exclude, "exclude", "drop what matches this filter (repeatable), e.g. --exclude 'comm=\"pause\"'")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("run takes no arguments")
	}
	if err := applySettings(fs, *configFile, os.Getenv); err != nil {
		return err
	}
	if err := conn.validate(""); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdio.Err, nil))
	if *sink != "loki" && *sink != "stdout" {
		return usageError("unknown --sink %q: use loki or stdout", *sink)
	}
	useKernel, useSynthetic := false, false
	for _, c := range strings.Split(*capture, ",") {
		switch strings.TrimSpace(c) {
		case "kernel":
			useKernel = true
		case "synthetic":
			useSynthetic = true
		case "none":
		default:
			return usageError("unknown --capture %q: use kernel, synthetic, both, or none", c)
		}
	}
	useAudit := audit.WebhookAddr != "" || audit.LogPath != ""
	if !useKernel && !useSynthetic && !useAudit {
		return usageError("nothing to record: --capture none needs --audit-webhook or --audit-log")
	}
	if *kubeMode != "auto" && *kubeMode != "on" && *kubeMode != "off" {
		return usageError("unknown --kube %q: use auto, on or off", *kubeMode)
	}
	full, err := spool.ParseFullPolicy(*spoolFull)
	if err != nil {
		return usageError("--spool-full: %v", err)
	}
	maxSpool, err := parseBytes(*spoolMax)
	if err != nil {
		return usageError("--spool-max-bytes: %v", err)
	}
	storeOpts, err := sf.options(log)
	if err != nil {
		return err
	}
	host, err := hostinfo.Read()
	if err != nil {
		return err
	}
	if *nodeName != "" {
		host.Host = *nodeName
	}
	pcfg := pipeline.Config{Cluster: *cluster, Host: host, Include: include, Exclude: exclude, Redaction: redactRules.rules(*redactDefaults)}
	kopts := kernel.Options{RingBytes: *ringBytes, ExecAuditID: *auditID, ReadInterval: *readInterval}
	if useKernel && os.Geteuid() != 0 {
		return errors.New("capture needs root (or CAP_BPF, CAP_PERFMON, CAP_SYS_RESOURCE and CAP_SYS_PTRACE): run it with sudo")
	}
	if *sink == "stdout" {
		if useSynthetic {
			return usageError("--sink stdout works with --capture kernel only")
		}
		return captureToStdout(ctx, pcfg, kopts, stdio, log)
	}

	var sources []agent.Source
	pods, err := openPods(*kubeMode, *kubeconfig, host.Host, log)
	if err != nil {
		return err
	}
	if pods != nil {
		sources = append(sources, agent.PodsSource{Pods: pods})
	}
	if useAudit {
		audit.StateDir = filepath.Join(sf.dataDir, "kubeaudit")
		audit.Cluster, audit.Logger = *cluster, log
		src := &agent.AuditSource{Config: audit}
		if pods != nil {
			src.Scoper = pods
		}
		sources = append(sources, src)
	}
	if useSynthetic {
		sources = append(sources, &agent.SyntheticSource{Rate: *syntheticRate, Ledger: *syntheticLedger})
	}
	if useKernel {
		ks, err := agent.OpenKernel(pcfg, kopts, log)
		if err != nil {
			return err
		}
		if pods != nil {
			ks.Pods = pods
		}
		sources = append(sources, ks)
	}
	hc, err := conn.httpClient()
	if err != nil {
		return err
	}
	cfg := agent.Config{
		DataDir:       sf.dataDir,
		Loki:          conn.cfg,
		HTTPClient:    hc,
		Store:         storeOpts,
		Spool:         spool.Options{MaxBytes: maxSpool, Full: full},
		MetricsListen: *metricsListen,
		Log:           log,
		Ready: func(lokiURL, metricsAddr string) {
			if !conn.set() {
				fmt.Fprintf(stdio.Err, "Recording into the embedded store; Loki API on %s (data in %s)\n", lokiURL, sf.dataDir)
				fmt.Fprintf(stdio.Err, "Try: collector query 'comm=\"curl\"' --since 10m\n")
			} else {
				fmt.Fprintf(stdio.Err, "Shipping to %s (spool in %s)\n", lokiURL, sf.dataDir)
			}
			if audit.WebhookAddr != "" {
				fmt.Fprintf(stdio.Err, "Receiving the API server's audit webhook on https://%s\n", audit.WebhookAddr)
			}
			if metricsAddr != "" {
				fmt.Fprintf(stdio.Err, "Metrics on http://%s/metrics, health on http://%s/healthz\n", metricsAddr, metricsAddr)
			}
		},
	}
	return agent.Run(ctx, cfg, sources...)
}

// captureToStdout prints records as NDJSON: no spool, no shipping.
func captureToStdout(ctx context.Context, pcfg pipeline.Config, kopts kernel.Options, stdio IO, log *slog.Logger) error {
	ks, err := agent.OpenKernel(pcfg, kopts, log)
	if err != nil {
		return err
	}
	err = ks.Capture(ctx, pipeline.NewNDJSON(stdio.Out))
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// openPods starts watching this node's pods when the collector runs in
// Kubernetes (mode auto: in a pod or with a kubeconfig; on: required; off:
// never). Nil means host scope only.
func openPods(mode, kubeconfig, node string, log *slog.Logger) (*kube.Pods, error) {
	if mode == "off" {
		return nil, nil
	}
	cs, err := kube.NewClientset(kubeconfig)
	if errors.Is(err, kube.ErrNotInCluster) && mode == "auto" {
		log.Info("not in Kubernetes (no service account, no --kubeconfig): records carry host scope only")
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("connect to kubernetes: %w", err)
	}
	pods, err := kube.NewPods(cs, kube.PodsOptions{Node: node, Log: log})
	if err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	return pods, nil
}
