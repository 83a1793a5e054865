package agent_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	lokiclient "github.com/grafana/loki-client-go/loki"
	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/activityaudit/activityaudit/collector/agent"
	"github.com/activityaudit/activityaudit/collector/cli"
	"github.com/activityaudit/activityaudit/collector/hostinfo"
	"github.com/activityaudit/activityaudit/collector/internal/runctest"
	"github.com/activityaudit/activityaudit/collector/kernel"
	"github.com/activityaudit/activityaudit/collector/kube"
	"github.com/activityaudit/activityaudit/collector/kubeaudit"
	"github.com/activityaudit/activityaudit/collector/pipeline"
	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/store"
	"github.com/activityaudit/activityaudit/pkg/trace"
)

const (
	e2eNode      = "e2e-node"
	e2eNamespace = "shop"
	e2ePod       = "web-7d9f-abc"
	e2eProbe     = "cat /tmp/ready"
	kubectlShell = "command -v bash >/dev/null && exec bash || exec sh"
)

// TestKubeExecTrace runs the collector in-process as a node collector and
// a kube exec receiver at once: a runc container stands in for a pod (the
// fake clientset maps its container id to the pod), `runc exec` stands in
// for the kubelet's exec, and the audit events an API server would send go
// to the real HTTPS webhook. Each trace must name the person and hold
// exactly the session's commands and connections.
func TestKubeExecTrace(t *testing.T) {
	if err := runctest.Available(); err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat("/sys/kernel/tracing/events"); err != nil {
		t.Skip("tracefs is not mounted on /sys/kernel/tracing")
	}
	c := runctest.New(t, runctest.Options{
		Applets: []string{"sh", "sleep", "cat", "id", "date", "wget", "true"},
		Files:   map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "tmp/ready": "ok\n"},
	})
	c.Run()

	// The pod the container belongs to, as the API server would list it.
	cs := fake.NewClientset(
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: e2eNamespace, Name: "web-7d9f", UID: "rs-uid",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "dep-uid", Controller: ptr(true)}}}},
		&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: e2eNamespace, Name: e2ePod, UID: "pod-uid",
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f", UID: "rs-uid", Controller: ptr(true)}}},
			Spec: corev1.PodSpec{NodeName: e2eNode, Containers: []corev1.Container{{Name: "web", Image: "shop/web:1.4",
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: strings.Fields(e2eProbe)}}}}}},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Image: "shop/web:1.4",
				ContainerID: "containerd://" + c.HexID, Ready: true}}},
		},
	)
	pods, err := kube.NewPods(cs, kube.PodsOptions{Node: e2eNode})
	if err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	host, err := hostinfo.Read()
	if err != nil {
		t.Fatal(err)
	}
	host.Host = e2eNode
	ks, err := agent.OpenKernel(pipeline.Config{Cluster: "e2e", Host: host}, kernel.Options{ExecAuditID: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	ks.Pods = pods

	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("e2e-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	webhookAddr := freePort(t)
	audit := &agent.AuditSource{Scoper: pods, Config: kubeaudit.Config{
		WebhookAddr: webhookAddr, TLSCert: certFile, TLSKey: keyFile, TokenFile: tokenFile,
		Hold: 500 * time.Millisecond, Cluster: "e2e", StateDir: filepath.Join(dir, "kubeaudit"), Logger: log,
	}}

	var lokiCfg lokiclient.Config
	lokiCfg.BatchWait, lokiCfg.BatchSize, lokiCfg.Timeout = 100*time.Millisecond, 1<<20, 10*time.Second
	lokiCfg.BackoffConfig.MinBackoff, lokiCfg.BackoffConfig.MaxBackoff = 50*time.Millisecond, time.Second
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(ctx, agent.Config{
			DataDir: filepath.Join(dir, "data"), Loki: lokiCfg, MetricsListen: "off", Log: log,
			Store: store.Options{Listen: "127.0.0.1:0"},
			Ready: func(lokiURL, _ string) { ready <- lokiURL },
		}, agent.PodsSource{Pods: pods}, ks, audit)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("agent: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the agent did not start")
	}
	client, err := loki.New(loki.Config{URL: base})
	if err != nil {
		t.Fatal(err)
	}
	q := trace.Loki{Client: client}
	webhook := webhookPoster(t, webhookAddr, pool)

	// exec runs argv in the container as the kubelet would for a kube exec
	// (env: KUBERNETES_EXEC_AUDIT_ID, when the kubelet passes it) and returns
	// the audit events the API server would log for it.
	exec := func(user, auditID string, env []string, argv ...string) []auditv1.Event {
		started := time.Now()
		cmd := c.ExecEnv(env, argv...)
		if err := cmd.Wait(); err != nil {
			t.Logf("runc exec %q: %v", argv, err)
		}
		return execEvents(user, auditID, argv, started, time.Now())
	}
	find := func(id string, done func(trace.Found) bool) trace.Found {
		t.Helper()
		var f trace.Found
		var err error
		deadline := time.Now().Add(30 * time.Second)
		for {
			f, err = trace.Find(context.Background(), q, id, time.Now().Add(-time.Hour), time.Now().Add(time.Minute), trace.Window{})
			if err == nil && done(f) {
				return f
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		recs, _ := q.Records(context.Background(), mustEvents(t, ""))
		for _, r := range recs {
			if r.ContainerID == c.HexID || r.Source == field.KubeExec {
				t.Logf("stored: %s", pipeline.AppendJSON(nil, &r))
			}
		}
		t.Fatalf("trace of %s: %+v, %v", id, f, err)
		return f
	}
	programs := func(s *trace.Session) (cmds []string, conns []string) {
		s.Walk(func(p *trace.Process, _ int) bool {
			cmds = append(cmds, p.Record.Cmdline)
			for _, n := range p.Conns {
				conns = append(conns, fmt.Sprintf("%s -> %s:%d %s", p.Record.Cmdline, n.ServerIP, n.ServerPort, n.Result))
			}
			return true
		})
		slices.Sort(cmds)
		return cmds, conns
	}

	t.Run("one exec: its user, its commands and its connection", func(t *testing.T) {
		// busybox sh forks and execs wget, and execs cat in its own
		// process (the last command): two programs of the entry process.
		script := "wget -q -O- http://127.0.0.1:9/ || true; cat /tmp/ready"
		webhook(exec("alice@example.com", "11111111-0000-4000-8000-000000000001", nil, "sh", "-c", script))
		f := find("11111111-0000-4000-8000-000000000001", func(f trace.Found) bool {
			if f.Session == nil {
				return false
			}
			n, conns := f.Session.Counts()
			return n == 3 && conns == 1
		})
		s := f.Session
		k := s.KubeExec()
		if k == nil || k.K8sUser != "alice@example.com" || k.Workload != "web" || k.WorkloadKind != "Deployment" || k.ContainerID != c.HexID || k.Host != e2eNode {
			t.Fatalf("kube exec %+v", k)
		}
		cmds, conns := programs(s)
		if want := []string{"cat /tmp/ready", "sh -c '" + script + "'", "wget -q -O- http://127.0.0.1:9/"}; !slices.Equal(cmds, want) {
			t.Errorf("commands %q, want %q", cmds, want)
		}
		if want := []string{"wget -q -O- http://127.0.0.1:9/ -> 127.0.0.1:9 ECONNREFUSED"}; !slices.Equal(conns, want) {
			t.Errorf("connections %q, want %q", conns, want)
		}
		if s.Probe {
			t.Error("a session ending with the probe's command was taken for a probe")
		}
		e := s.Entry.Record
		if e.Namespace != e2eNamespace || e.Pod != e2ePod || e.Workload != "web" || e.Container != "web" || e.Image != "shop/web:1.4" {
			t.Errorf("the session's records are not enriched: %+v", e)
		}
		// The same through the command line, from the session's side.
		var out, errb bytes.Buffer
		if code := cli.Main(context.Background(), []string{"trace", s.ID, "--since", "1h", "--loki-url", base}, cli.IO{Out: &out, Err: &errb}); code != cli.ExitOK {
			t.Fatalf("collector trace: exit %d: %s", code, errb.String())
		}
		for _, want := range []string{"alice@example.com", "exec shop/" + e2ePod + "/web", "wget -q -O- http://127.0.0.1:9/", "127.0.0.1:9 (refused)"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("collector trace output lacks %q:\n%s", want, out.String())
			}
		}
	})

	t.Run("two identical concurrent execs are ambiguous", func(t *testing.T) {
		ids := []string{"22222222-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002"}
		events := concurrently(func(i int) []auditv1.Event {
			return exec([]string{"bob@example.com", "carol@example.com"}[i], ids[i], nil, "sh", "-c", "sleep 0.3; date")
		})
		webhook(events)
		f := find(ids[0], func(f trace.Found) bool { return f.Match != nil && f.Match.Reason == trace.ReasonAmbiguous })
		if f.Session != nil || len(f.Match.Candidates) != 2 {
			t.Errorf("found %+v, want an ambiguous match between two sessions", f.Match)
		}
	})

	t.Run("the audit id the kubelet passes resolves them exactly", func(t *testing.T) {
		ids := []string{"33333333-0000-4000-8000-000000000001", "33333333-0000-4000-8000-000000000002"}
		users := []string{"dave@example.com", "erin@example.com"}
		events := concurrently(func(i int) []auditv1.Event {
			return exec(users[i], ids[i], []string{"KUBERNETES_EXEC_AUDIT_ID=" + ids[i]}, "sh", "-c", "sleep 0.3; date")
		})
		webhook(events)
		sessions := map[string]bool{}
		for i, id := range ids {
			f := find(id, func(f trace.Found) bool { return f.Session != nil })
			if !f.Session.Exact || f.Session.KubeExec().K8sUser != users[i] {
				t.Errorf("%s: exact %v user %q, want exact and %s", id, f.Session.Exact, f.Session.KubeExec().K8sUser, users[i])
			}
			if f.Session.Entry == nil || f.Session.Entry.Record.AuditID != id {
				t.Errorf("%s: the session's entry does not carry its audit id", id)
			}
			sessions[f.Session.ID] = true
		}
		if len(sessions) != 2 {
			t.Errorf("%d sessions for two execs", len(sessions))
		}
	})

	t.Run("kubectl's shell wrapper is one session with the shell it execs", func(t *testing.T) {
		id := "44444444-0000-4000-8000-000000000001"
		webhook(exec("frank@example.com", id, nil, "sh", "-c", kubectlShell))
		f := find(id, func(f trace.Found) bool { return f.Session != nil && f.Session.Entry != nil })
		s := f.Session
		if k := s.KubeExec(); k == nil || k.K8sUser != "frank@example.com" {
			t.Fatalf("kube exec %+v", k)
		}
		if len(s.Roots) != 1 || s.Entry.Record.Cmdline != "sh -c '"+kubectlShell+"'" {
			t.Errorf("roots %d, entry %q", len(s.Roots), s.Entry.Record.Cmdline)
		}
	})

	t.Run("a probe-like exec is marked and never attributed", func(t *testing.T) {
		id := "55555555-0000-4000-8000-000000000001"
		webhook(exec("mallory@example.com", id, nil, strings.Fields(e2eProbe)...))
		f := find(id, func(f trace.Found) bool { return f.Match != nil })
		if f.Session != nil || f.Match.Reason != trace.ReasonNotFound {
			t.Errorf("the probe's session was attributed: %+v", f.Match)
			recs, _ := q.Records(context.Background(), mustEvents(t, `source="cmd" session="`+f.Match.Session+`"`))
			for _, r := range recs {
				t.Logf("session record: %s", pipeline.AppendJSON(nil, &r))
			}
		}
		var probe *trace.Session
		waitFor(t, "the probe's record", 30*time.Second, func() bool {
			recs, err := q.Records(context.Background(), mustEvents(t, `source="cmd" cmdline="`+e2eProbe+`" probe="true"`))
			if err != nil || len(recs) == 0 {
				return false
			}
			f, err := trace.Find(context.Background(), q, recs[0].Session, time.Now().Add(-time.Hour), time.Now().Add(time.Minute), trace.Window{})
			probe = f.Session
			return err == nil
		})
		if !probe.Probe || probe.KubeExec() != nil {
			t.Errorf("probe session: probe %v, kube exec %+v", probe.Probe, probe.KubeExec())
		}
	})
}

func ptr[T any](v T) *T { return &v }

// concurrently runs two execs at once and returns their events.
func concurrently(fn func(i int) []auditv1.Event) []auditv1.Event {
	var wg sync.WaitGroup
	out := make([][]auditv1.Event, 2)
	for i := range out {
		wg.Go(func() { out[i] = fn(i) })
	}
	wg.Wait()
	return append(out[0], out[1]...)
}

// execEvents are the ResponseStarted and ResponseComplete events an API
// server logs for `kubectl exec POD -c web -- argv` (kubectl ≥ 1.30: a
// WebSocket GET).
func execEvents(user, auditID string, argv []string, started, ended time.Time) []auditv1.Event {
	v := url.Values{}
	for _, a := range argv {
		v.Add("command", a)
	}
	v.Set("container", "web")
	v.Set("stdout", "true")
	v.Set("stderr", "true")
	ev := auditv1.Event{
		TypeMeta:                 metav1.TypeMeta{APIVersion: "audit.k8s.io/v1", Kind: "Event"},
		Level:                    auditv1.LevelMetadata,
		AuditID:                  types.UID(auditID),
		RequestURI:               "/api/v1/namespaces/" + e2eNamespace + "/pods/" + e2ePod + "/exec?" + v.Encode(),
		Verb:                     "get",
		User:                     authnv1.UserInfo{Username: user, Groups: []string{"dev", "system:authenticated"}},
		SourceIPs:                []string{"203.0.113.7"},
		UserAgent:                "kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0",
		ObjectRef:                &auditv1.ObjectReference{Resource: "pods", Namespace: e2eNamespace, Name: e2ePod, Subresource: "exec", APIVersion: "v1"},
		RequestReceivedTimestamp: metav1.NewMicroTime(started.Add(-50 * time.Millisecond)),
	}
	start, end := ev, ev
	start.Stage, start.StageTimestamp = auditv1.StageResponseStarted, metav1.NewMicroTime(started)
	start.ResponseStatus = &metav1.Status{Code: 101}
	end.Stage, end.StageTimestamp = auditv1.StageResponseComplete, metav1.NewMicroTime(ended)
	end.ResponseStatus = &metav1.Status{Code: 101}
	return []auditv1.Event{start, end}
}

// webhookPoster posts events to the webhook as the API server's webhook
// backend does (an EventList, a bearer token, over TLS).
func webhookPoster(t *testing.T, addr string, pool *x509.CertPool) func([]auditv1.Event) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return func(events []auditv1.Event) {
		t.Helper()
		body, err := json.Marshal(auditv1.EventList{TypeMeta: metav1.TypeMeta{APIVersion: "audit.k8s.io/v1", Kind: "EventList"}, Items: events})
		if err != nil {
			t.Fatal(err)
		}
		var resp *http.Response
		waitFor(t, "the webhook", 20*time.Second, func() bool {
			req, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/audit", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer e2e-token")
			req.Header.Set("Content-Type", "application/json")
			resp, err = hc.Do(req)
			return err == nil
		})
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(resp.Body)
			t.Fatalf("webhook: %d %s", resp.StatusCode, msg)
		}
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "activity-audit e2e"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// mustEvents is the event-list request of a filter over the last hour.
func mustEvents(t *testing.T, text string) logql.Request {
	t.Helper()
	flt, err := filter.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	req, err := logql.Events(logql.Scope{Filter: flt}, time.Now().Add(-time.Hour), time.Now().Add(time.Minute), 100)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
