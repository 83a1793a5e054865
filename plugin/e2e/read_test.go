package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/link"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/plugin/internal/falcoapi"
	"github.com/activityaudit/activityaudit/plugin/internal/storetest"
)

const grafana = "https://grafana.example.com/grafana"

// declared is a field as plugin_get_fields declares it.
type declared struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// plugin loads the library and inits the plugin with config.
func plugin(t testing.TB, config string) (*falcoapi.Plugin, []falcoapi.Field) {
	t.Helper()
	l, err := falcoapi.Load(soPath)
	if err != nil {
		t.Fatal(err)
	}
	var decl []declared
	if err := json.Unmarshal([]byte(l.Fields()), &decl); err != nil {
		t.Fatal(err)
	}
	fields := make([]falcoapi.Field, len(decl))
	for i, d := range decl {
		typ := map[string]uint32{"string": falcoapi.TypeString, "uint64": falcoapi.TypeUint64, "bool": falcoapi.TypeBool}[d.Type]
		if typ == 0 {
			t.Fatalf("field %s has type %s", d.Name, d.Type)
		}
		fields[i] = falcoapi.Field{ID: uint32(i), Name: d.Name, Type: typ}
	}
	p, err := l.Init(config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Destroy)
	return p, fields
}

func config(st *storetest.Store, extra string) string {
	c := `{"lokiURL":"` + st.URL + `","grafanaURL":"` + grafana + `","delay":"0s","pollInterval":"20ms","linkBefore":"10m","linkAfter":"5m"`
	if extra != "" {
		c += "," + extra
	}
	return c + "}"
}

// reader reads events from an open instance and checks each of them
// against the records pushed: extracted fields included.
type reader struct {
	t      testing.TB
	inst   *falcoapi.Instance
	x      *falcoapi.Extractor
	fields []falcoapi.Field
	// byPayload finds the record an event came from.
	byPayload map[string]*record.Record
	seen      map[string]int
	last      uint64
	num       uint64
	timeouts  int
}

func newReader(t testing.TB, p *falcoapi.Plugin, fields []falcoapi.Field, inst *falcoapi.Instance, recs []record.Record) *reader {
	rd := &reader{t: t, inst: inst, fields: fields, x: p.NewExtractor("activityaudit", fields),
		byPayload: map[string]*record.Record{}, seen: map[string]int{}}
	t.Cleanup(rd.x.Free)
	rd.add(recs)
	return rd
}

// add registers records that may be read.
func (rd *reader) add(recs []record.Record) {
	for i := range recs {
		r := &recs[i]
		// The event payload holds every field by name: find the record by
		// its command line, exec id or audit id and time, all unique here.
		rd.byPayload[identity(r)] = r
	}
}

func identity(r *record.Record) string {
	return fmt.Sprintf("%d/%s/%s/%s/%s/%d", r.Time, r.Source, r.Cmdline, r.ExecID, r.AuditID, r.ClientPort)
}

// read calls plugin_next_batch until n events came (or the deadline), and
// checks each event.
func (rd *reader) read(n int, deadline time.Duration) int {
	rd.t.Helper()
	got := 0
	for end := time.Now().Add(deadline); got < n && time.Now().Before(end); {
		b, rc, err := rd.inst.NextBatch()
		if err != nil {
			rd.t.Fatal(err)
		}
		switch rc {
		case falcoapi.Timeout:
			rd.timeouts++
			if b.Len() != 0 {
				rd.t.Fatalf("timeout with %d events", b.Len())
			}
			continue
		case falcoapi.Success:
		default:
			rd.t.Fatalf("next batch: rc %d", rc)
		}
		for i := range b.Len() {
			rd.check(b, i)
		}
		got += b.Len()
	}
	return got
}

// check checks event i of a batch: a plugin event, in time order, of a
// record pushed and not read before, whose every field extracts in place
// to the record's value.
func (rd *reader) check(b falcoapi.Batch, i int) {
	t := rd.t
	t.Helper()
	e := b.Event(i)
	if e.Type() != falcoapi.PluginEventType {
		t.Fatalf("event type %d, want %d", e.Type(), falcoapi.PluginEventType)
	}
	if id := e.PluginID(); id != 0 && id != 999 {
		t.Errorf("plugin id %d in the event", id)
	}
	if e.Timestamp() < rd.last {
		t.Errorf("event at %d after one at %d: out of order", e.Timestamp(), rd.last)
	}
	rd.last = e.Timestamp()
	rd.num++
	values, err := rd.x.ExtractBatch(b, i, rd.num)
	if err != nil {
		t.Fatal(err)
	}
	var got record.Record
	got.Time = int64(values[0].U64)
	byName := map[string]falcoapi.Value{}
	for j, f := range rd.fields {
		byName[f.Name] = values[j]
	}
	got.Source = field.Source(byName["activity.source"].Str)
	got.Cmdline, got.ExecID, got.AuditID = byName["activity.cmdline"].Str, byName["activity.exec_id"].Str, byName["activity.audit_id"].Str
	got.ClientPort = byName["activity.client_port"].U64
	id := identity(&got)
	r, ok := rd.byPayload[id]
	if !ok {
		t.Fatalf("event %s is no record pushed (payload %s)", id, e.Payload())
	}
	rd.seen[id]++
	if rd.seen[id] > 1 {
		t.Errorf("record %s read %d times", id, rd.seen[id])
	}
	if e.Timestamp() != uint64(r.Time) {
		t.Errorf("event time %d, record time %d", e.Timestamp(), r.Time)
	}
	for _, f := range field.All() {
		present, want := expect(r, f)
		v := byName["activity."+f.Name]
		if v.Present != present {
			t.Errorf("%s: %s present %v, want %v", id, f.Name, v.Present, present)
			continue
		}
		if present && v != want {
			t.Errorf("%s: %s = %+v, want %+v", id, f.Name, v, want)
		}
	}
	audit, trace := link.Record(grafana, r, link.Window{Before: 10 * time.Minute, After: 5 * time.Minute})
	if v := byName["activity.link"]; !v.Present || v.Str != audit {
		t.Errorf("%s: link = %+v, want %s", id, v, audit)
	}
	if v := byName["activity.trace_link"]; v.Present != (trace != "") || v.Str != trace {
		t.Errorf("%s: trace_link = %+v, want %q", id, v, trace)
	}
}

// missing lists the records never read.
func (rd *reader) missing() []string {
	var out []string
	for id := range rd.byPayload {
		if rd.seen[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// expect is what a field of a record extracts to, from the record's text
// as Loki shows it: a number or boolean Loki would not show has no value
// unless the field applies to the record's source; a string has one when
// set or when the field applies.
func expect(r *record.Record, f field.Field) (bool, falcoapi.Value) {
	text, _ := r.Text(f.Name)
	switch f.Type {
	case field.Time:
		return true, falcoapi.Value{Present: true, U64: uint64(r.Time)}
	case field.Uint:
		if text == "" {
			return false, falcoapi.Value{}
		}
		u, _ := strconv.ParseUint(text, 10, 64)
		return true, falcoapi.Value{Present: true, U64: u}
	case field.Bool:
		if text == "true" {
			return true, falcoapi.Value{Present: true, Bool: true}
		}
		return f.AppliesTo(r.Source), falcoapi.Value{Present: f.AppliesTo(r.Source)}
	}
	present := text != "" || f.AppliesTo(r.Source)
	return present, falcoapi.Value{Present: present, Str: text}
}

// Every record of every source comes back once, in time order, through
// plugin_next_batch — ties in one nanosecond and small pages included —
// and every field extracts through plugin_extract_fields with its type
// and value.
func TestReadEveryRecordInOrder(t *testing.T) {
	st := storetest.Start(t)
	t0 := time.Now().Add(-10 * time.Minute)
	recs := storetest.Records(t0, 300)
	// Two more records in the stream of the first, at its time.
	for i := range 2 {
		r := storetest.Command(5000 + i)
		r.Time = recs[0].Time
		recs = append(recs, r)
	}
	st.Push(t, recs...)
	p, fields := plugin(t, config(st, `"start":"`+t0.Format(time.RFC3339Nano)+`","pageSize":7`))
	inst, err := p.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	rd := newReader(t, p, fields, inst, recs)
	if got := rd.read(len(recs), 30*time.Second); got != len(recs) {
		t.Fatalf("read %d of %d records; missing %v", got, len(recs), rd.missing())
	}
	if more := rd.read(1, 300*time.Millisecond); more != 0 {
		t.Errorf("read %d events more than were pushed", more)
	}
}

// The sources and filter of the configuration select what is read.
func TestReadFiltered(t *testing.T) {
	st := storetest.Start(t)
	t0 := time.Now().Add(-10 * time.Minute)
	recs := storetest.Records(t0, 60)
	st.Push(t, recs...)
	p, fields := plugin(t, config(st, `"start":"`+t0.Format(time.RFC3339Nano)+`","sources":["cmd","net"],"filter":"comm!=\"curl\""`))
	inst, err := p.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	var want []record.Record
	for _, r := range recs {
		if r.Source == field.Cmd {
			want = append(want, r)
		}
	}
	rd := newReader(t, p, fields, inst, want)
	if got := rd.read(len(want)+1, 2*time.Second); got != len(want) {
		t.Errorf("read %d records, want the %d commands", got, len(want))
	}
}

// A restarted plugin goes on from its cursor file: records pushed since —
// one of them in the very nanosecond where reading stopped — are read, and
// nothing read before comes again.
func TestRestartResumesFromCursorFile(t *testing.T) {
	st := storetest.Start(t)
	cursor := filepath.Join(t.TempDir(), "activityaudit.cursor")
	t0 := time.Now().Add(-10 * time.Minute)
	first := storetest.Records(t0, 40)
	st.Push(t, first...)
	cfg := config(st, `"start":"`+t0.Format(time.RFC3339Nano)+`","pageSize":5,"cursorFile":"`+cursor+`"`)

	p, fields := plugin(t, cfg)
	inst, err := p.Open("")
	if err != nil {
		t.Fatal(err)
	}
	rd := newReader(t, p, fields, inst, first)
	if got := rd.read(len(first), 20*time.Second); got != len(first) {
		t.Fatalf("first run read %d of %d", got, len(first))
	}
	inst.Close()
	p.Destroy()
	data, err := os.ReadFile(cursor)
	if err != nil {
		t.Fatalf("no cursor file after close: %v", err)
	}
	if want := fmt.Sprintf(`"time":"%d"`, first[len(first)-1].Time); !strings.Contains(string(data), want) {
		t.Errorf("cursor file %s, want %s", data, want)
	}

	// Falco restarts; meanwhile more records arrived, one in the last
	// nanosecond read.
	second := storetest.Records(time.Unix(0, first[len(first)-1].Time).Add(time.Millisecond), 20)
	tie := storetest.KubeExec(777)
	tie.Time = first[len(first)-1].Time
	second = append(second, tie)
	st.Push(t, second...)
	p2, _ := plugin(t, cfg)
	inst2, err := p2.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer inst2.Close()
	rd2 := newReader(t, p2, fields, inst2, second)
	rd2.add(first) // reading one of these again is an error, not an unknown record
	got := rd2.read(len(second)+1, 3*time.Second)
	if got != len(second) {
		t.Errorf("second run read %d records, want the %d new ones", got, len(second))
	}
	for id, n := range rd2.seen {
		if n > 0 && rd.seen[id] > 0 {
			t.Errorf("record %s read in both runs", id)
		}
	}
}

// Loki goes down while the plugin reads: plugin_next_batch keeps answering
// within its timeout, the reader backs off, and once Loki is back every
// record pushed meanwhile is read, once.
func TestReconnectAfterOutage(t *testing.T) {
	st := storetest.Start(t)
	t0 := time.Now().Add(-10 * time.Minute)
	recs := storetest.Records(t0, 90)
	st.Push(t, recs[:30]...)
	p, fields := plugin(t, config(st, `"start":"`+t0.Format(time.RFC3339Nano)+`","pageSize":10`))
	inst, err := p.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	rd := newReader(t, p, fields, inst, recs)
	if got := rd.read(30, 20*time.Second); got != 30 {
		t.Fatalf("read %d of 30 before the outage", got)
	}
	st.SetDown(true)
	st.Push(t, recs[30:60]...)
	before := st.Queries()
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		callStart := time.Now()
		b, rc, err := inst.NextBatch()
		if err != nil || rc != falcoapi.Timeout || b.Len() != 0 {
			t.Fatalf("next batch while down = %d events, rc %d, %v; want a timeout", b.Len(), rc, err)
		}
		if took := time.Since(callStart); took > 2*time.Second {
			t.Fatalf("next batch took %s while down: it must answer within its timeout", took)
		}
	}
	if q := st.Queries() - before; q > 8 {
		t.Errorf("%d queries in 2s while down: the reader does not back off", q)
	}
	st.SetDown(false)
	st.Push(t, recs[60:]...)
	if got := rd.read(60, 30*time.Second); got != 60 {
		t.Fatalf("read %d of the 60 records after the outage; missing %v", got, rd.missing())
	}
	if more := rd.read(1, 300*time.Millisecond); more != 0 {
		t.Errorf("read %d events more than were pushed", more)
	}
}

// A k8s_audit exec or attach request (the k8s_audit plugin's event: its
// payload is the audit event's JSON) yields both links; other requests,
// and record fields, yield nothing.
func TestK8sAuditEventLinks(t *testing.T) {
	p, fields := plugin(t, `{"grafanaURL":"`+grafana+`/"}`)
	var want []falcoapi.Field
	for _, f := range fields {
		if f.Name == "activity.link" || f.Name == "activity.trace_link" || f.Name == "activity.k8s_user" || f.Name == "activity.time" {
			want = append(want, f)
		}
	}
	x := p.NewExtractor("k8s_audit", want)
	defer x.Free()
	lines := auditLog(t)
	const app = grafana + "/a/activityaudit-app"
	const shop = "&filter=namespace%3D%22shop%22%20pod%3D%22woocommerce-6877958-x2b4q%22"
	tests := []struct {
		line        int
		link, trace string
	}{
		{3, app + "/audit?from=1795683900101&to=1795688561900" + shop,
			app + "/trace/00c8decc-b988-4086-908b-fe8ec37b9380?from=1795683900101&to=1795688561900"},
		{7, app + "/audit?from=1795684260000&to=1795688760000&filter=namespace%3D%22shop%22%20pod%3D%22woocommerce-6877958-k9z7p%22",
			app + "/trace/7b7b7b7b-aaaa-bbbb-cccc-333333333333?from=1795684260000&to=1795688760000"},
		{9, "", ""},
	}
	for i, tt := range tests {
		e := falcoapi.NewEvent(1, uint64(time.Now().UnixNano()), []byte(lines[tt.line-1]))
		values, err := x.Extract(e, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		for j, f := range want {
			v := values[j]
			switch f.Name {
			case "activity.link":
				if v.Present != (tt.link != "") || v.Str != tt.link {
					t.Errorf("line %d: link = %+v\n want %s", tt.line, v, tt.link)
				}
			case "activity.trace_link":
				if v.Present != (tt.trace != "") || v.Str != tt.trace {
					t.Errorf("line %d: trace_link = %+v\n want %s", tt.line, v, tt.trace)
				}
			default:
				if v.Present {
					t.Errorf("line %d: %s = %+v on a k8s_audit event", tt.line, f.Name, v)
				}
			}
		}
	}
}

func auditLog(t *testing.T) []string {
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
	return lines
}
