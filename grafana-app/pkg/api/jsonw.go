package api

import (
	"maps"
	"slices"
	"strconv"

	"github.com/activityaudit/activityaudit/pkg/jsonscan"
)

// object appends one JSON object field by field. The answers that embed
// records (trace, who, policy events) are written with it: encoding/json
// would validate and compact every embedded record again, which costs
// more than the rest of the request. Each answer type keeps its json tags
// for readers, and a test checks the two encodings agree.
type object struct {
	b     []byte
	first bool
}

func newObject(b []byte) *object { return &object{b: append(b, '{'), first: true} }

// key writes k as it is: the answers' own keys are identifiers that need
// no escaping. Keys from data go through anyKey.
func (o *object) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

// anyKey writes any string as a key.
func (o *object) anyKey(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = jsonscan.AppendString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *object) str(k, v string) {
	o.key(k)
	o.b = jsonscan.AppendString(o.b, v)
}

// strOmit writes k unless v is empty (omitempty).
func (o *object) strOmit(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *object) boolOmit(k string, v bool) {
	if v {
		o.key(k)
		o.b = append(o.b, "true"...)
	}
}

func (o *object) int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

// record writes a record of the answer, null for none.
func (o *object) record(k string, r *AnswerRecord) {
	o.key(k)
	if r == nil {
		o.b = append(o.b, "null"...)
		return
	}
	o.b, _ = appendRecord(o.b, r.rec)
}

// records writes a list of records; an empty list is written only when
// omitEmpty is false.
func (o *object) records(k string, rs []AnswerRecord, omitEmpty bool) {
	if len(rs) == 0 && omitEmpty {
		return
	}
	o.key(k)
	o.b = append(o.b, '[')
	for i := range rs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b, _ = appendRecord(o.b, rs[i].rec)
	}
	o.b = append(o.b, ']')
}

func (o *object) strs(k string, vs []string, omitEmpty bool) {
	if len(vs) == 0 && omitEmpty {
		return
	}
	o.key(k)
	o.b = append(o.b, '[')
	for i, v := range vs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = jsonscan.AppendString(o.b, v)
	}
	o.b = append(o.b, ']')
}

func (o *object) end() []byte { return append(o.b, '}') }

func (t *TraceAnswer) appendJSON(b []byte) []byte {
	o := newObject(b)
	o.str("id", t.ID)
	o.str("session", t.Session)
	o.str("status", t.Status)
	o.boolOmit("exact", t.Exact)
	o.record("kube_exec", t.KubeExec)
	o.records("ambiguous", t.Ambiguous, true)
	o.strs("candidates", t.Candidates, true)
	o.strOmit("user", t.User)
	o.strOmit("start", t.Start)
	o.strOmit("end", t.End)
	o.key("processes")
	o.b = appendProcesses(o.b, t.Processes)
	o.records("unattributed", t.Unattributed, true)
	o.int("commands", int64(t.Commands))
	o.int("connections", int64(t.Connections))
	o.boolOmit("truncated", t.Truncated)
	o.strOmit("audit", t.Audit)
	o.strOmit("link", t.Link)
	return o.end()
}

func appendProcesses(b []byte, ps []*TraceProcess) []byte {
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		o := newObject(b)
		o.record("record", &p.Record)
		o.boolOmit("entry", p.Entry)
		o.boolOmit("orphan", p.Orphan)
		o.boolOmit("exec", p.Exec)
		o.boolOmit("inferred", p.Inferred)
		o.records("connections", p.Connections, true)
		if len(p.Children) > 0 {
			o.key("children")
			o.b = appendProcesses(o.b, p.Children)
		}
		b = o.end()
	}
	return append(b, ']')
}

func (w *WhoAnswer) appendJSON(b []byte) []byte {
	o := newObject(b)
	o.str("session", w.Session)
	o.str("status", w.Status)
	o.boolOmit("exact", w.Exact)
	o.record("kube_exec", w.KubeExec)
	o.records("ambiguous", w.Ambiguous, true)
	o.strOmit("user", w.User)
	o.str("trace", w.Trace)
	return o.end()
}

func (p *PolicyEventsAnswer) appendJSON(b []byte) []byte {
	o := newObject(b)
	o.key("events")
	o.b = append(o.b, '[')
	for i := range p.Events {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = p.Events[i].appendJSON(o.b)
	}
	o.b = append(o.b, ']')
	o.strOmit("next", p.Next)
	return o.end()
}

func (e *PolicyEvent) appendJSON(b []byte) []byte {
	o := newObject(b)
	o.str("id", e.ID)
	o.str("time", e.Time)
	o.str("rule", e.Rule)
	o.str("priority", e.Priority)
	o.str("source", e.Source)
	o.strOmit("hostname", e.Hostname)
	o.strs("tags", e.Tags, true)
	o.str("output", e.Output)
	o.str("format", e.Format)
	o.strOmit("uuid", e.UUID)
	if len(e.Fields) > 0 {
		o.key("fields")
		f := newObject(o.b)
		for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
			f.anyKey(k)
			f.b = jsonscan.AppendString(f.b, e.Fields[k])
		}
		o.b = f.end()
	}
	o.strOmit("namespace", e.Namespace)
	o.strOmit("pod", e.Pod)
	o.strOmit("container_id", e.ContainerID)
	o.strOmit("container_name", e.ContainerName)
	o.strOmit("k8s_user", e.K8sUser)
	if a := e.Activity; a != nil {
		o.key("activity")
		l := newObject(o.b)
		l.str("filter", a.Filter)
		l.int("from", a.From)
		l.int("to", a.To)
		l.str("path", a.Path)
		l.str("link", a.Link)
		o.b = l.end()
	}
	o.strOmit("trace", e.Trace)
	return o.end()
}
