package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/link"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// The answers written by hand (jsonw.go) must read back as their types
// say, field for field: compare with encoding/json's encoding of the same
// value.
func TestHandWrittenAnswersMatchTheirTypes(t *testing.T) {
	r := record.Record{Time: 1795687500500000000, Source: field.Cmd, Host: "node-a", Comm: "sh", Cmdline: `sh -c "echo <&>"`, PID: 7, SessionEntry: true}
	rec := AnswerRecord{&r}
	full := &TraceAnswer{
		ID: "x", Session: "s", Status: StatusAmbiguous, Exact: true, KubeExec: &rec, Ambiguous: []AnswerRecord{rec, rec},
		Candidates: []string{"a", "b\"c"}, User: "u", Start: "1", End: "2",
		Processes: []*TraceProcess{{Record: rec, Entry: true, Orphan: true, Exec: true, Inferred: true,
			Connections: []AnswerRecord{rec}, Children: []*TraceProcess{{Record: rec}}}},
		Unattributed: []AnswerRecord{rec}, Commands: 3, Connections: 1, Truncated: true, Audit: "/a?x=1&y=2", Link: "/t",
	}
	empty := &TraceAnswer{ID: "x", Processes: []*TraceProcess{}}
	who := &WhoAnswer{Session: "s", Status: StatusKnown, Exact: true, KubeExec: &rec, Ambiguous: []AnswerRecord{rec}, User: "u", Trace: "/t"}
	events := &PolicyEventsAnswer{Next: "c", Events: []PolicyEvent{
		{ID: "1", Time: "2", Rule: "r", Priority: "p", Source: "s", Hostname: "h", Tags: []string{"a", "b"}, Output: "o <b>", Format: "json",
			UUID: "u", Fields: map[string]string{"z": "1", "a": "2", "q\"k<": "3"}, Namespace: "n", Pod: "p", ContainerID: "c", ContainerName: "cn", K8sUser: "k",
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
	b, err := json.Marshal(AnswerRecord{&r})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
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
	id1, _ := recordID(&r, nil)
	id2, _ := recordID(&record.Record{Time: r.Time, Source: field.Net, Host: "h"}, nil)
	if id1 == id2 {
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

// The policy events' links rely on AuditURL's base being a plain prefix.
func TestAuditURLBaseIsAPrefix(t *testing.T) {
	flt := filter.Filter{Terms: []filter.Term{{Field: "pod", Op: filter.Eq, Value: "a b&c", Offset: -1}}}
	from, to := time.UnixMilli(1000), time.UnixMilli(2000)
	path := link.AuditURL("", from, to, nil, flt)
	for _, base := range []string{"", "http://g", "http://g/", "https://g:3000/sub/path//"} {
		if got, want := strings.TrimRight(base, "/")+path, link.AuditURL(base, from, to, nil, flt); got != want {
			t.Errorf("base %q: %s, want %s", base, got, want)
		}
	}
}

// A record's id is the xxHash64 of its object's text after the id, the
// same wherever the object is written; every field takes part in it.
func TestRecordIDs(t *testing.T) {
	base := record.Record{Time: 1795687500500000000, Source: field.Cmd, Host: "node-a", Pod: "web-1", Cmdline: "sh -c 'x'", PID: 7, Session: "s"}
	variants := []struct {
		name string
		edit func(r *record.Record)
	}{
		{"as is", func(*record.Record) {}},
		{"time", func(r *record.Record) { r.Time++ }},
		{"label", func(r *record.Record) { r.Host = "node-b" }},
		{"metadata", func(r *record.Record) { r.Session = "t" }},
		{"body string", func(r *record.Record) { r.Cmdline = "sh -c 'y'" }},
		{"body number", func(r *record.Record) { r.PID = 8 }},
		{"field moved", func(r *record.Record) { r.Host, r.Pod = "web-1", "node-a" }},
		{"field emptied", func(r *record.Record) { r.Pod = "" }},
	}
	seen := map[uint64]string{}
	for _, v := range variants {
		r := base
		v.edit(&r)
		id, obj := recordID(&r, nil)
		if prev, ok := seen[id]; ok {
			t.Errorf("%s: id %x already given to %s", v.name, id, prev)
		}
		seen[id] = v.name
		var m map[string]string
		if err := json.Unmarshal(obj, &m); err != nil {
			t.Fatalf("%s: %v: %s", v.name, err, obj)
		}
		if want := fmt.Sprintf("%016x", xxhash.Sum64(obj[idEnd+1:len(obj)-1])); m["id"] != want {
			t.Errorf("%s: id %s, want %s", v.name, m["id"], want)
		}
		// Written after other text, the object and its id are the same.
		at, id2 := appendRecord([]byte(`{"x":1},`), &r)
		if id2 != id || string(at[len(`{"x":1},`):]) != string(obj) {
			t.Errorf("%s: written after other text: %x %s, want %x %s", v.name, id2, at, id, obj)
		}
		if b, _ := json.Marshal(AnswerRecord{&r}); string(b) != string(obj) {
			t.Errorf("%s: MarshalJSON %s, want %s", v.name, b, obj)
		}
	}
}

func TestSortedLabels(t *testing.T) {
	l := func(kv ...string) []loki.Label {
		var ls []loki.Label
		for i := 0; i < len(kv); i += 2 {
			ls = append(ls, loki.Label{Name: kv[i], Value: kv[i+1]})
		}
		return ls
	}
	for _, tt := range []struct{ in, want []loki.Label }{
		{nil, nil},
		{l("a", "1", "b", "2"), l("a", "1", "b", "2")},
		{l("b", "2", "a", "1"), l("a", "1", "b", "2")},
		{l("a", "1", "a", "3", "b", "2"), l("a", "3", "b", "2")},
	} {
		if got := sortedLabels(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("sortedLabels(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPermute(t *testing.T) {
	for _, order := range [][]int{{}, {0}, {1, 0}, {2, 0, 1}, {0, 2, 1, 3}, {3, 2, 1, 0, 4, 6, 5}} {
		recs := make([]record.Record, len(order))
		for i := range recs {
			recs[i].Time = int64(i)
		}
		want := make([]int64, len(order))
		for i, k := range order {
			want[i] = int64(k)
		}
		permute(recs, slices.Clone(order))
		for i := range recs {
			if recs[i].Time != want[i] {
				t.Fatalf("order %v: got %v at %d, want %v", order, recs[i].Time, i, want[i])
			}
		}
	}
}
