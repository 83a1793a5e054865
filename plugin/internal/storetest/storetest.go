// Package storetest runs the embedded store (pkg/store) over real HTTP for
// the plugin's tests, fills it through its push API as the collector does,
// and can make it look down.
package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/store"
)

// Store is an embedded store behind an HTTP server.
type Store struct {
	// URL is the Loki API's base URL.
	URL   string
	store *store.Store
	down  atomic.Bool
	// queries counts the query requests that reached the server.
	queries atomic.Int64
}

// Start opens a store in a temporary directory and serves it; both stop at
// the end of the test.
func Start(tb testing.TB) *Store {
	tb.Helper()
	st, err := store.Open(store.Options{Dir: tb.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	s := &Store{store: st}
	h := st.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/loki/api/v1/push" {
			s.queries.Add(1)
			if s.down.Load() {
				http.Error(w, "store is down (test)", http.StatusServiceUnavailable)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	s.URL = srv.URL
	tb.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return s
}

// SetDown makes queries fail with 503 (pushes still land), or work again.
func (s *Store) SetDown(down bool) { s.down.Store(down) }

// Queries is how many query requests reached the server.
func (s *Store) Queries() int64 { return s.queries.Load() }

// Push stores records as the collector ships them: stream labels,
// structured metadata and the JSON line.
func (s *Store) Push(tb testing.TB, recs ...record.Record) {
	tb.Helper()
	body, err := PushBody(recs)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.Post(s.URL+"/loki/api/v1/push", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(resp.Body)
		tb.Fatalf("push %d records: %s: %s", len(recs), resp.Status, msg)
	}
}

// PushBody is Loki's JSON push request for records: one stream per label
// set, entries in the given order.
func PushBody(recs []record.Record) ([]byte, error) {
	type stream struct {
		Stream map[string]string `json:"stream"`
		Values [][]any           `json:"values"`
	}
	var streams []*stream
	index := map[string]*stream{}
	for i := range recs {
		e := record.Encode(&recs[i])
		key := record.LabelString(e.Labels)
		st, ok := index[key]
		if !ok {
			st = &stream{Stream: map[string]string{}}
			for _, l := range e.Labels {
				st.Stream[l.Name] = l.Value
			}
			index[key] = st
			streams = append(streams, st)
		}
		md := map[string]string{}
		for _, m := range e.Metadata {
			md[m.Name] = m.Value
		}
		st.Values = append(st.Values, []any{strconv.FormatInt(e.Time, 10), e.Line, md})
	}
	b, err := json.Marshal(map[string]any{"streams": streams})
	if err != nil {
		return nil, fmt.Errorf("encode push request: %w", err)
	}
	return b, nil
}

// Records returns a set of records of every source, every field set on
// some record, starting at t0 a millisecond apart; every fourth time is
// shared by two records of different streams, and some by two records of
// one stream, so that readers meet equal timestamps.
func Records(t0 time.Time, n int) []record.Record {
	recs := make([]record.Record, 0, n)
	ts := t0.UnixNano()
	for i := range n {
		var r record.Record
		switch field.Sources[i%len(field.Sources)] {
		case field.Cmd:
			r = Command(i)
		case field.Net:
			r = Connection(i)
		case field.KubeExec:
			r = KubeExec(i)
		}
		if i%4 != 1 {
			ts += int64(time.Millisecond)
		}
		r.Time = ts
		recs = append(recs, r)
	}
	return recs
}

// Command is a cmd record with every cmd field set; i makes it unique.
func Command(i int) record.Record {
	return record.Record{
		Source: field.Cmd, Cluster: "prod-eu-1", Host: "worker-1", HostMAC: "02:42:ac:11:00:02",
		Namespace: "shop", Workload: "woocommerce", WorkloadKind: "Deployment", Pod: "woocommerce-6877958-x2b4q",
		Container: "php", ContainerID: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", Image: "docker.io/library/wordpress:6.7",
		Comm: "apt-get", Exe: "/usr/bin/apt-get", Cmdline: fmt.Sprintf(`apt-get install -y "nmap" # %d`, i), Cwd: "/var/www/html",
		PID: uint64(9000 + i), PPID: 9001, UID: 0, GID: 0, User: "root", LoginUID: 4294967295, TTY: "pts/0",
		ShellID: 9001, ShellDistance: 1, ExecID: fmt.Sprintf("worker-1:77000:%d", 9000+i), ParentExecID: "worker-1:76000:9001",
		Session: "worker-1:76000:9001", SessionEntry: i%6 == 0, Probe: false,
		K8sUser: "johndoe", K8sGroups: "dev,system:authenticated", AuditID: "00c8decc-b988-4086-908b-fe8ec37b9380",
	}
}

// Connection is a net record with every net field set; i makes it unique.
func Connection(i int) record.Record {
	return record.Record{
		Source: field.Net, Cluster: "prod-eu-1", Host: "worker-2", HostMAC: "02:42:ac:11:00:03",
		Namespace: "shop", Workload: "mysql", WorkloadKind: "StatefulSet", Pod: "mysql-0",
		Container: "mysql", ContainerID: "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2", Image: "docker.io/library/mysql:8",
		Comm: "curl", Exe: "/usr/bin/curl", PID: uint64(7000 + i), PPID: 6999,
		ExecID: fmt.Sprintf("worker-2:55000:%d", 7000+i), ParentExecID: "worker-2:54000:6999",
		Session: "", Direction: "out", L4Proto: "tcp", ClientIP: "10.0.3.7", ClientPort: uint64(40000 + i),
		ServerIP: "203.0.113.50", ServerPort: 443, Result: map[bool]string{true: "ECONNREFUSED"}[i%5 == 0],
		K8sUser: "alice@example.com", K8sGroups: "system:masters",
	}
}

// KubeExec is a kube_exec record with every kube_exec field set; i makes
// it unique.
func KubeExec(i int) record.Record {
	return record.Record{
		Source: field.KubeExec, Cluster: "prod-eu-1", Host: "control-plane",
		Namespace: "shop", Workload: "woocommerce", WorkloadKind: "Deployment", Pod: "woocommerce-6877958-x2b4q",
		Container: "php", Session: map[bool]string{true: "worker-1:76000:9001"}[i%2 == 0],
		Resource: "pods", Name: "woocommerce-6877958-x2b4q", Subresource: "exec", Command: "bash",
		K8sUser: "system:serviceaccount:ci:deployer", K8sGroups: "system:serviceaccounts,system:authenticated",
		UserAgent: "kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0", SourceAddresses: "203.0.113.7",
		AuditID: fmt.Sprintf("00c8decc-b988-4086-908b-%012d", i), EndTime: uint64(1795687661900001000 + i),
		ResponseCode: 101, ExecStdin: true, ExecTTY: i%3 != 0,
	}
}
