package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/collector/container"
	"github.com/activityaudit/activityaudit/collector/event"
	"github.com/activityaudit/activityaudit/collector/hostinfo"
	"github.com/activityaudit/activityaudit/collector/proctable"
	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/record"
)

type memSink struct{ recs []record.Record }

func (m *memSink) Write(_ context.Context, r *record.Record) error {
	m.recs = append(m.recs, *r)
	return nil
}

type fakeContainers map[uint64]container.Info

func (f fakeContainers) Container(id uint64) (container.Info, bool) {
	i, ok := f[id]
	return i, ok
}

const cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func newTestPipeline(t *testing.T, cfg Config) (*Pipeline, *memSink) {
	t.Helper()
	table, err := proctable.New(proctable.Config{Node: "node-a", ProcRoot: t.TempDir(), HostPidNS: 1000})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host = hostinfo.Info{Host: "node-a", MAC: "02:42:ac:11:00:02"}
	cfg.Cluster = "demo"
	cfg.ProcRoot = t.TempDir()
	sink := &memSink{}
	p, err := New(cfg, table, fakeContainers{77: {ID: cid, Runtime: "containerd"}}, sink)
	if err != nil {
		t.Fatal(err)
	}
	return p, sink
}

func execEvent(tgid, ppid uint32, start uint64, comm string, args ...string) event.Event {
	return event.Event{Kind: event.KindExec, Exec: &event.Exec{
		Time: start + 10, StartTime: start, TGID: tgid, PID: tgid, PPID: ppid, ParentStartTime: 1,
		Comm: comm, Exe: "/usr/bin/" + comm, Args: args, Cwd: "/work", CgroupID: 77, PidNS: 1000, LoginUID: 4294967295,
	}}
}

func TestCommandRecords(t *testing.T) {
	p, sink := newTestPipeline(t, Config{})
	ctx := context.Background()
	for _, ev := range []event.Event{
		execEvent(100, 1, 1_000, "bash", "bash"),
		{Kind: event.KindFork, Fork: &event.Fork{Time: 1_500, ParentTGID: 100, ParentStartTime: 1_000, ChildTGID: 101, ChildStartTime: 1_600, CgroupID: 77, PidNS: 1000}},
		execEvent(101, 100, 1_600, "curl", "curl", "-H", "Authorization: Bearer abc", "https://x/"),
	} {
		if err := p.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(sink.recs) != 2 {
		t.Fatalf("%d records", len(sink.recs))
	}
	curl := sink.recs[1]
	want := map[string]string{
		"source": "cmd", "cluster": "demo", "host": "node-a", "host_mac": "02:42:ac:11:00:02", "container_id": cid,
		"comm": "curl", "exe": "/usr/bin/curl", "cwd": "/work", "pid": "101", "ppid": "100",
		"cmdline":  `curl -H 'Authorization: Bearer ***' https://x/`,
		"shell_id": "100", "shell_distance": "1", "exec_id": "node-a:1600:101", "parent_exec_id": "node-a:1000:100",
		"login_uid": "4294967295",
	}
	for name, v := range want {
		if got, _ := curl.Text(name); got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	if st := p.Stats(); st.Captured[field.Cmd] != 2 || st.Redacted != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestConnectionRecords(t *testing.T) {
	p, sink := newTestPipeline(t, Config{})
	ctx := context.Background()
	p.Handle(ctx, execEvent(200, 1, 5_000, "nginx", "nginx"))
	conns := []event.Conn{
		{Time: 6_000, TGID: 200, StartTime: 5_000, Comm: "nginx", Op: event.OpAccept, Proto: "tcp",
			Local: netip.MustParseAddrPort("10.0.0.2:80"), Remote: netip.MustParseAddrPort("10.0.0.9:41000"), CgroupID: 77},
		{Time: 7_000, TGID: 200, StartTime: 5_000, Comm: "nginx", Op: event.OpConnect, Proto: "tcp",
			Local: netip.MustParseAddrPort("[fd00::2]:50000"), Remote: netip.MustParseAddrPort("[fd00::3]:5432"), Result: -111, CgroupID: 77},
		{Time: 8_000, TGID: 999, Comm: "dig", Op: event.OpUDPSend, Proto: "udp",
			Local: netip.MustParseAddrPort("10.0.0.2:5353"), Remote: netip.MustParseAddrPort("10.96.0.10:53")},
	}
	for i := range conns {
		if err := p.Handle(ctx, event.Event{Kind: event.KindConn, Conn: &conns[i]}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		rec  record.Record
		want map[string]string
	}{
		{"accept is in, client is the remote", sink.recs[1], map[string]string{"direction": "in", "l4proto": "tcp", "client_ip": "10.0.0.9", "client_port": "41000",
			"server_ip": "10.0.0.2", "server_port": "80", "pid": "200", "exec_id": "node-a:5000:200", "comm": "nginx", "exe": "/usr/bin/nginx", "result": ""}},
		{"refused connect", sink.recs[2], map[string]string{"direction": "out", "client_ip": "fd00::2", "server_ip": "fd00::3", "server_port": "5432", "result": "ECONNREFUSED"}},
		{"unknown process keeps the event's comm", sink.recs[3], map[string]string{"comm": "dig", "pid": "999", "l4proto": "udp", "exec_id": "", "container_id": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rec.Source != field.Net {
				t.Fatalf("source %s", tt.rec.Source)
			}
			for name, v := range tt.want {
				if got, _ := tt.rec.Text(name); got != v {
					t.Errorf("%s = %q, want %q", name, got, v)
				}
			}
		})
	}
}

func TestFilters(t *testing.T) {
	p, sink := newTestPipeline(t, Config{
		Include: []filter.Filter{filter.MustParse(`source="cmd"`)},
		Exclude: []filter.Filter{filter.MustParse(`comm="pause"`), filter.MustParse(`comm=~"kube.*"`)},
	})
	ctx := context.Background()
	for i, comm := range []string{"pause", "bash", "kubelet", "ls"} {
		p.Handle(ctx, execEvent(uint32(300+i), 1, uint64(9_000+i), comm, comm))
	}
	c := event.Conn{Time: 1, TGID: 1, Comm: "x", Op: event.OpConnect, Proto: "tcp", Local: netip.MustParseAddrPort("1.1.1.1:1"), Remote: netip.MustParseAddrPort("2.2.2.2:2")}
	p.Handle(ctx, event.Event{Kind: event.KindConn, Conn: &c})
	var comms []string
	for _, r := range sink.recs {
		comms = append(comms, r.Comm)
	}
	if strings.Join(comms, ",") != "bash,ls" {
		t.Errorf("kept %v", comms)
	}
	if st := p.Stats(); st.Filtered != 3 {
		t.Errorf("filtered %d, want 3", st.Filtered)
	}
}

func TestNDJSON(t *testing.T) {
	var buf bytes.Buffer
	s := NewNDJSON(&buf)
	r := record.Record{Time: 1795687500500000000, Source: field.Cmd, Host: "node-a", Pod: "web-1", Comm: "ls", Cmdline: `ls "x"`, PID: 7}
	if err := s.Write(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("written before Flush: %s", buf.String())
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &got); err != nil {
		t.Fatalf("%s: %v", buf.String(), err)
	}
	want := map[string]any{"time": "2026-11-26T10:05:00.5Z", "source": "cmd", "host": "node-a", "pod": "web-1", "comm": "ls", "cmdline": `ls "x"`, "pid": float64(7)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["job"]; ok {
		t.Error("job label in the output")
	}
}

// lockedBuffer is a bytes.Buffer a test reads while Run writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRunFlushes: a record written to a buffering sink is flushed as soon
// as no event waits, without the channel closing.
func TestRunFlushes(t *testing.T) {
	p, _ := newTestPipeline(t, Config{})
	out := &lockedBuffer{}
	p.sink = NewNDJSON(out)
	events := make(chan []event.Event, 1)
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background(), events) }()
	events <- []event.Event{execEvent(100, 1, 1_000, "bash", "bash", "-l")}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), `"cmdline":"bash -l"`) {
		if time.Now().After(deadline) {
			t.Fatalf("record not flushed; written: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(events)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
