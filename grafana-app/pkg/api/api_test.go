package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// The answers written by hand (jsonw.go) must read back as their types
// say, field for field: compare with encoding/json's encoding of the same
// value.
func TestHandWrittenAnswersMatchTheirTypes(t *testing.T) {
	r := record.Record{Time: 1795687500500000000, Source: field.Cmd, Host: "node-a", Comm: "sh", Cmdline: `sh -c "echo <&>"`, PID: 7, SessionEntry: true}
	rec := recordOf(&r)
	full := &TraceAnswer{
		ID: "x", Session: "s", Status: StatusAmbiguous, Exact: true, KubeExec: rec, Ambiguous: []json.RawMessage{rec, rec},
		Candidates: []string{"a", "b\"c"}, User: "u", Start: "1", End: "2",
		Processes: []*TraceProcess{{Record: rec, Entry: true, Orphan: true, Exec: true, Inferred: true,
			Connections: []json.RawMessage{rec}, Children: []*TraceProcess{{Record: rec}}}},
		Unattributed: []json.RawMessage{rec}, Commands: 3, Connections: 1, Truncated: true, Audit: "/a?x=1&y=2", Link: "/t",
	}
	empty := &TraceAnswer{ID: "x", KubeExec: json.RawMessage("null"), Processes: []*TraceProcess{}}
	who := &WhoAnswer{Session: "s", Status: StatusKnown, Exact: true, KubeExec: rec, Ambiguous: []json.RawMessage{rec}, User: "u", Trace: "/t"}
	events := &PolicyEventsAnswer{Next: "c", Events: []PolicyEvent{
		{ID: "1", Time: "2", Rule: "r", Priority: "p", Source: "s", Hostname: "h", Tags: []string{"a", "b"}, Output: "o <b>", Format: "json",
			UUID: "u", Fields: map[string]string{"z": "1", "a": "2"}, Namespace: "n", Pod: "p", ContainerID: "c", ContainerName: "cn", K8sUser: "k",
			Activity: &ActivityLink{Filter: `pod="p"`, From: 1, To: 2, Path: "/a", Link: "http://g/a"}, Trace: "/t"},
		{ID: "2", Time: "3", Rule: "r", Priority: "p", Source: "s", Output: "o", Format: "text"},
	}}
	tests := []struct {
		name string
		v    any
		hand []byte
	}{
		{"full trace", full, full.appendJSON(nil)},
		{"empty trace", empty, empty.appendJSON(nil)},
		{"who", who, who.appendJSON(nil)},
		{"policy events", events, events.appendJSON(nil)},
		{"no policy events", &PolicyEventsAnswer{Events: []PolicyEvent{}}, (&PolicyEventsAnswer{Events: []PolicyEvent{}}).appendJSON(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tt.v); err != nil {
				t.Fatal(err)
			}
			if got, want := string(tt.hand), string(bytes.TrimSpace(buf.Bytes())); got != want {
				t.Errorf("by hand:\n%s\nencoding/json:\n%s", got, want)
			}
		})
	}
}

func TestRecordJSON(t *testing.T) {
	r := record.Record{Time: 1795687500500000000, Source: field.Net, Host: "h\n\"x\"", PID: 0, ServerPort: 443, Direction: "out"}
	var m map[string]string
	if err := json.Unmarshal(recordOf(&r), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"id": m["id"], "time": "1795687500500000000", "source": "net", "host": "h\n\"x\"", "pid": "0", "ppid": "0",
		"client_port": "0", "server_port": "443", "direction": "out"}
	if len(m["id"]) != 16 || len(m) != len(want) {
		t.Fatalf("%v", m)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	a, _ := recordID(&r, nil)
	b, _ := recordID(&record.Record{Time: r.Time, Source: field.Net, Host: "h"}, nil)
	if a == b {
		t.Error("different records share an id")
	}
}

func TestCursorRoundTrip(t *testing.T) {
	from, to := time.Unix(0, 1000), time.Unix(0, 5000)
	c := cursor{time: 2000, seen: []uint64{1, 1<<64 - 1, 42}}
	got, err := parseCursor(c.String(), from, to)
	if err != nil || got.time != c.time || len(got.seen) != 3 || got.seen[1] != 1<<64-1 {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"!", "eA", cursor{time: 999}.String(), cursor{time: 5000}.String()} {
		if _, err := parseCursor(bad, from, to); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	type item struct{ t, id int64 }
	key := func(i *item) (int64, uint64) { return i.t, uint64(i.id) }
	items := []item{{9, 1}, {8, 2}, {8, 3}, {8, 4}, {7, 5}}
	page1, next := page(items, key, nil, 3)
	if len(page1) != 3 || next.time != 8 || len(next.seen) != 2 {
		t.Fatalf("%v %+v", page1, next)
	}
	// A page all inside one instant keeps what the cursor had seen.
	page2, next2 := page([]item{{8, 4}, {7, 5}}, key, next, 1)
	if len(page2) != 1 || next2.time != 8 || len(next2.seen) != 3 {
		t.Fatalf("%v %+v", page2, next2)
	}
	if _, n := page(items, key, nil, 5); n != nil {
		t.Error("a cursor after the last page")
	}
}
