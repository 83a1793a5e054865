package activityaudit

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/plugin/internal/storetest"
)

const grafana = "https://grafana.example.com"

func testRecords() map[string]record.Record {
	t0 := time.Date(2026, 11, 26, 10, 5, 12, 345678901, time.UTC).UnixNano()
	recs := map[string]record.Record{
		"cmd":       storetest.Command(1),
		"net":       storetest.Connection(2),
		"kube_exec": storetest.KubeExec(3),
		// Zero values: uid 0 on a command, a connection without a session.
		"sparse cmd": {Source: field.Cmd, Host: "h", Cmdline: "id"},
		"sparse net": {Source: field.Net, Host: "h", Direction: "in"},
		// Text that JSON must escape.
		"escapes": {Source: field.Cmd, Cmdline: "sh -c \"echo \\\"hi\\\"\"\n\t\u2028\x01 é", Cwd: `C:\dir`},
	}
	for k, r := range recs {
		r.Time = t0
		recs[k] = r
	}
	return recs
}

func TestPayloadRoundTrip(t *testing.T) {
	for name, r := range testRecords() {
		t.Run(name, func(t *testing.T) {
			payload := appendPayload(nil, &r)
			if !strings.HasPrefix(string(payload), payloadPrefix) {
				t.Fatalf("payload %s does not start with %s", payload, payloadPrefix)
			}
			var ev event
			ev.reset(1, uint64(r.Time), string(payload))
			got := ev.rec()
			if got == nil {
				t.Fatalf("payload %s did not decode", payload)
			}
			if !reflect.DeepEqual(*got, r) {
				t.Errorf("round trip\n got  %+v\n want %+v", *got, r)
			}
		})
	}
}

// Every registry field extracts with the type the table declares and the
// value the record holds, on every source.
func TestExtractEveryField(t *testing.T) {
	p := testPlugin(`{"grafanaURL":"` + grafana + `"}`)
	num := uint64(0)
	for name, r := range testRecords() {
		t.Run(name, func(t *testing.T) {
			num++
			ev := &fakeEvent{num: num, ts: uint64(r.Time), data: appendPayload(nil, &r)}
			for _, f := range field.All() {
				req := requestFor(FieldPrefix + f.Name)
				if err := p.Extract(req, ev); err != nil {
					t.Fatalf("extract %s: %v", f.Name, err)
				}
				present, value := want(&r, f)
				if req.set != present {
					t.Errorf("%s: set = %v, want %v (value %v)", f.Name, req.set, present, req.value)
					continue
				}
				if present && !reflect.DeepEqual(req.value, value) {
					t.Errorf("%s = %#v, want %#v", f.Name, req.value, value)
				}
			}
		})
	}
}

func TestExtractLinks(t *testing.T) {
	p := testPlugin(`{"grafanaURL":"` + grafana + `/","linkBefore":"10m","linkAfter":"5m"}`)
	at := time.Date(2026, 11, 26, 10, 5, 12, 345678901, time.UTC)
	rng := "from=1795686912345&to=1795687812345"
	tests := []struct {
		name        string
		r           record.Record
		link, trace string
	}{
		{"command in a session",
			record.Record{Time: at.UnixNano(), Source: field.Cmd, Session: "worker-1:76000:9001", ContainerID: "abc"},
			grafana + "/a/activityaudit-app/audit?" + rng + "&filter=session%3D%22worker-1%3A76000%3A9001%22",
			grafana + "/a/activityaudit-app/trace/worker-1:76000:9001?" + rng},
		{"connection without a session",
			record.Record{Time: at.UnixNano(), Source: field.Net, ContainerID: "abc"},
			grafana + "/a/activityaudit-app/audit?" + rng + "&filter=container_id%3D%22abc%22",
			""},
		{"kube exec without a session",
			record.Record{Time: at.UnixNano(), Source: field.KubeExec, Namespace: "shop", Name: "web-1", AuditID: "a1"},
			grafana + "/a/activityaudit-app/audit?" + rng + "&filter=namespace%3D%22shop%22%20pod%3D%22web-1%22",
			grafana + "/a/activityaudit-app/trace/a1?" + rng},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &fakeEvent{num: uint64(100 + i), ts: uint64(tt.r.Time), data: appendPayload(nil, &tt.r)}
			checkString(t, p, ev, LinkField, tt.link)
			checkString(t, p, ev, TraceLinkField, tt.trace)
		})
	}
}

// checkString extracts a string field; want "" means no value.
func checkString(t *testing.T, p *Plugin, ev *fakeEvent, name, want string) {
	t.Helper()
	req := requestFor(name)
	if err := p.Extract(req, ev); err != nil {
		t.Fatalf("extract %s: %v", name, err)
	}
	switch {
	case want == "" && req.set:
		t.Errorf("%s = %v, want no value", name, req.value)
	case want != "" && !req.set:
		t.Errorf("%s has no value, want %s", name, want)
	case want != "" && req.value != want:
		t.Errorf("%s\n got  %v\n want %s", name, req.value, want)
	}
}

func auditEvents(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../testdata/k8s-audit/audit-log.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// The k8s_audit plugin's exec and attach requests (its payload is the audit
// event's JSON) get both links; other audit events and record fields get none.
func TestExtractK8sAudit(t *testing.T) {
	p := testPlugin(`{"grafanaURL":"` + grafana + `"}`)
	events := auditEvents(t)
	const app = grafana + "/a/activityaudit-app"
	shopPod := "&filter=namespace%3D%22shop%22%20pod%3D%22woocommerce-6877958-x2b4q%22"
	tests := []struct {
		line        int // in audit-log.jsonl, from 1
		link, trace string
	}{
		// RequestReceived: no end yet, the range runs from the request.
		{1, app + "/audit?from=1795683900101&to=1795688400101" + shopPod,
			app + "/trace/00c8decc-b988-4086-908b-fe8ec37b9380?from=1795683900101&to=1795688400101"},
		// ResponseComplete: to its end.
		{3, app + "/audit?from=1795683900101&to=1795688561900" + shopPod,
			app + "/trace/00c8decc-b988-4086-908b-fe8ec37b9380?from=1795683900101&to=1795688561900"},
		// An exec refused by RBAC still links to its request.
		{6, "", app + "/trace/9a9a9a9a-1234-4567-89ab-222222222222?"},
		// kubectl attach.
		{7, "", app + "/trace/7b7b7b7b-aaaa-bbbb-cccc-333333333333?"},
		// Ephemeral container, pod log, pod list: no links.
		{8, "", ""}, {9, "", ""}, {10, "", ""},
	}
	for _, tt := range tests {
		payload := events[tt.line-1]
		if strings.HasPrefix(payload, payloadPrefix) {
			t.Fatalf("line %d starts like our payload", tt.line)
		}
		ev := &fakeEvent{num: uint64(1000 + tt.line), ts: 1, data: []byte(payload)}
		link, trace := extractString(t, p, ev, LinkField), extractString(t, p, ev, TraceLinkField)
		if tt.link != "" && link != tt.link {
			t.Errorf("line %d: link\n got  %s\n want %s", tt.line, link, tt.link)
		}
		if tt.trace == "" && (link != "" || trace != "") {
			t.Errorf("line %d: links %q, %q, want none", tt.line, link, trace)
		}
		if tt.trace != "" && !strings.HasPrefix(trace, tt.trace) {
			t.Errorf("line %d: trace link\n got  %s\n want %s...", tt.line, trace, tt.trace)
		}
		if tt.trace != "" && link == "" {
			t.Errorf("line %d: no audit link", tt.line)
		}
		for _, f := range field.All() {
			req := requestFor(FieldPrefix + f.Name)
			if err := p.Extract(req, ev); err != nil {
				t.Fatal(err)
			}
			if req.set {
				t.Errorf("line %d: %s = %v on a k8s_audit event, want no value", tt.line, f.Name, req.value)
			}
		}
	}
}

func extractString(t *testing.T, p *Plugin, ev *fakeEvent, name string) string {
	t.Helper()
	req := requestFor(name)
	if err := p.Extract(req, ev); err != nil {
		t.Fatalf("extract %s: %v", name, err)
	}
	if !req.set {
		return ""
	}
	return req.value.(string)
}

// A new event with the number of the previous one (another source's
// sequence) is decoded afresh.
func TestExtractReloadsOnNewEvent(t *testing.T) {
	p := testPlugin("")
	a, b := storetest.Command(1), storetest.Command(2)
	a.Time, b.Time = 10, 20
	for _, r := range []record.Record{a, b} {
		ev := &fakeEvent{num: 7, ts: uint64(r.Time), data: appendPayload(nil, &r)}
		req := requestFor("activity.cmdline")
		if err := p.Extract(req, ev); err != nil {
			t.Fatal(err)
		}
		if req.value != r.Cmdline {
			t.Errorf("cmdline = %v, want %s", req.value, r.Cmdline)
		}
	}
}

func TestExtractUnknownField(t *testing.T) {
	p := testPlugin("")
	req := &fakeRequest{id: uint64(len(fieldTable)), name: "activity.nope"}
	if err := p.Extract(req, &fakeEvent{data: []byte(`{"time":1}`)}); err == nil {
		t.Error("extracting an id past the table succeeded")
	}
}

// The table is the registry, in order, then the links; names and types
// follow the registry.
func TestFieldTable(t *testing.T) {
	fields := Fields()
	reg := field.All()
	if len(fields) != len(reg)+2 {
		t.Fatalf("%d fields, want %d", len(fields), len(reg)+2)
	}
	for i, f := range reg {
		e := fields[i]
		if e.Name != FieldPrefix+f.Name {
			t.Errorf("field %d is %s, want %s", i, e.Name, FieldPrefix+f.Name)
		}
		wantType := map[field.Type]string{field.String: "string", field.Uint: "uint64", field.Time: "uint64", field.Bool: "bool"}[f.Type]
		if e.Type != wantType {
			t.Errorf("%s is %s, want %s", e.Name, e.Type, wantType)
		}
		if !strings.HasPrefix(e.Desc, f.Description) {
			t.Errorf("%s: description %q does not start with the registry's", e.Name, e.Desc)
		}
	}
	if fields[len(reg)].Name != LinkField || fields[len(reg)+1].Name != TraceLinkField {
		t.Errorf("link fields are %s, %s", fields[len(reg)].Name, fields[len(reg)+1].Name)
	}
}
