// Package trace builds an exec session's process tree from the session's
// records (what logql.Trace returns): the kube exec request that opened it,
// the entry process, the processes descended from it by parent_exec_id and
// the connections each of them made.
//
// The tree is what users read in a trace:
//
//   - The entry process (session_entry, or exec_id equal to the session) is
//     the first root.
//   - A process is a child of the process whose exec_id is its
//     parent_exec_id, children oldest first (ties keep the input order).
//   - A process whose parent is not among the records (lost, outside the
//     time range, or never seen) is an orphan: a root after the entry,
//     flagged Orphan. So is a record that would close a parent cycle.
//   - A process that exec'd again shows as a chain: each later program is a
//     child of the one it replaced, flagged Exec. Both ways of naming such
//     programs are read: the collector's (the process keeps its exec_id, so
//     several cmd records share one) and Tetragon's (a new exec_id whose
//     parent_exec_id is the previous program, with the same pid). A child or
//     connection of a process whose records share an exec_id belongs to the
//     latest program started at or before it.
//   - A connection is attached to the process whose exec_id it carries; a
//     process known only from its connections (its cmd record is missing)
//     is kept, flagged Inferred.
//
// Correlating a kube exec request with a session whose records do not name
// each other (by audit id, pod, container, time and argv) is a separate
// step, Correlate, which Find runs over a Querier: Build takes the kube exec
// records it is given.
package trace

import (
	"cmp"
	"slices"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// Session is one exec session's trace.
type Session struct {
	// ID is the session id: the exec_id of its entry process.
	ID string
	// KubeExecs are the kube exec requests of the session, oldest first.
	KubeExecs []record.Record
	// Exact is true when the kube exec was found by the audit id its entry
	// process carried (KEP-6035), not by pod, time and argv.
	Exact bool
	// Ambiguous are the kube exec requests that fit the session when more
	// than one session fits each of them: who ran it is not guessed.
	Ambiguous []record.Record
	// Entry is the entry process; nil when its record is missing.
	Entry *Process
	// Roots are the tops of the tree: the entry process first, then the
	// orphans, oldest first.
	Roots []*Process
	// Unattributed are connections that name no process (no exec_id),
	// oldest first.
	Unattributed []record.Record
	// Start and End are the times of the session's first and last record,
	// Unix nanoseconds; 0 for an empty session.
	Start, End int64
	// Probe is true when a kubelet exec probe started the session.
	Probe bool
}

// Process is one program run by a process of the session.
type Process struct {
	// Record is the process's cmd record, one of those given to Build (not
	// a copy). For an Inferred process it is made from its first
	// connection: scope and process fields only, the time and source of
	// that connection.
	Record *record.Record
	// Entry marks the session's entry process.
	Entry bool
	// Orphan marks a root whose parent is not among the session's records.
	Orphan bool
	// Exec marks a program that replaced its parent's program in the same
	// process: Parent is the previous program, not a forking parent.
	Exec bool
	// Inferred marks a process known only from its connections.
	Inferred bool
	// Conns are the connections the program made or accepted, oldest first.
	Conns []record.Record
	// Children are the processes it started (and the program that replaced
	// it, flagged Exec), oldest first.
	Children []*Process
	// Parent is nil for a root.
	Parent *Process `json:"-"`

	order int      // position of the process's first record in the input
	prev  *Process // the previous program of the same exec_id, while linking
}

// Time is when the program started (or, for an Inferred process, its first
// connection), Unix nanoseconds.
func (p *Process) Time() int64 { return p.Record.Time }

// Empty reports whether the session has no records.
func (s *Session) Empty() bool {
	return len(s.KubeExecs) == 0 && len(s.Roots) == 0 && len(s.Unattributed) == 0
}

// KubeExec is the session's first kube exec request, or nil.
func (s *Session) KubeExec() *record.Record {
	if len(s.KubeExecs) == 0 {
		return nil
	}
	return &s.KubeExecs[0]
}

// Counts returns how many processes (programs) and connections the tree holds.
func (s *Session) Counts() (processes, conns int) {
	s.Walk(func(p *Process, _ int) bool {
		processes++
		conns += len(p.Conns)
		return true
	})
	return processes, conns + len(s.Unattributed)
}

// Build makes the trace of one session from its records, in any order.
// Records of other sources are ignored. The session id is taken from the
// entry process's record, else from the first record that carries one.
func Build(records []record.Record) *Session {
	s := &Session{}
	b := builder{byExecID: make(map[string][]*Process, len(records)), slab: make([]Process, 0, len(records))}
	var netRecs []indexed
	for i := range records {
		r := &records[i]
		switch r.Source {
		case field.KubeExec:
			s.KubeExecs = append(s.KubeExecs, *r)
		case field.Cmd:
			p := b.new()
			p.Record, p.Entry, p.order = r, r.SessionEntry, i
			b.add(p)
			s.Probe = s.Probe || r.Probe
		case field.Net:
			netRecs = append(netRecs, indexed{r, i})
		default:
			continue
		}
		if s.Start == 0 || r.Time < s.Start {
			s.Start = r.Time
		}
		s.End = max(s.End, r.Time)
	}
	s.ID = sessionID(records)
	sortRecords(s.KubeExecs)
	b.sort()

	// Connections: to their process, or to a process inferred from them.
	slices.SortStableFunc(netRecs, func(a, b indexed) int { return cmp.Compare(a.Time, b.Time) })
	for _, n := range netRecs {
		if n.ExecID == "" {
			s.Unattributed = append(s.Unattributed, *n.Record)
			continue
		}
		p := b.at(n.ExecID, n.Time)
		if p == nil {
			p = b.new()
			rec := processOf(n.Record)
			p.Record, p.Inferred, p.order = &rec, true, n.order
			b.add(p)
		}
		p.Conns = append(p.Conns, *n.Record)
	}

	for _, p := range b.all {
		if p.Record.ExecID != "" && p.Record.ExecID == s.ID {
			p.Entry = true
		}
	}
	b.link()
	for _, p := range b.all {
		if p.Parent != nil {
			p.Parent.Children = append(p.Parent.Children, p)
			continue
		}
		s.Roots = append(s.Roots, p)
		if s.Entry == nil && p.Entry {
			s.Entry = p
		}
	}
	// The entry first, then the other roots by time.
	slices.SortStableFunc(s.Roots, func(a, b *Process) int {
		switch {
		case a == s.Entry:
			return -1
		case b == s.Entry:
			return 1
		}
		return compareProcs(a, b)
	})
	for _, p := range b.all {
		slices.SortStableFunc(p.Children, compareProcs)
	}
	return s
}

type indexed struct {
	*record.Record
	order int
}

// builder indexes processes by exec_id; the programs of one exec_id are kept
// oldest first.
type builder struct {
	all      []*Process
	byExecID map[string][]*Process
	sorted   bool
	slab     []Process // room for the processes, one per record at most
}

// new returns a zero process from the slab.
func (b *builder) new() *Process {
	if len(b.slab) == cap(b.slab) {
		return new(Process) // not reached: a process per record at most
	}
	b.slab = b.slab[:len(b.slab)+1]
	return &b.slab[len(b.slab)-1]
}

func (b *builder) add(p *Process) {
	b.all = append(b.all, p)
	if id := p.Record.ExecID; id != "" { // else nothing can name it
		b.byExecID[id] = append(b.byExecID[id], p)
	}
}

// sort orders the programs of each exec_id; call it before at, after adding
// the cmd records.
func (b *builder) sort() {
	for _, imgs := range b.byExecID {
		slices.SortStableFunc(imgs, compareProcs)
	}
	b.sorted = true
}

// at is the program of exec_id id running at time t: the latest started at
// or before t, else the first.
func (b *builder) at(id string, t int64) *Process {
	if !b.sorted {
		panic("trace: builder.at before sort")
	}
	imgs := b.byExecID[id]
	if len(imgs) == 0 {
		return nil
	}
	p := imgs[0]
	for _, q := range imgs[1:] {
		if q.Time() > t {
			break
		}
		p = q
	}
	return p
}

// link sets every process's parent. A link that would close a cycle is
// refused, so the result is a forest; processes are linked newest first, so
// the process left without its parent is the oldest of the cycle.
func (b *builder) link() {
	for _, imgs := range b.byExecID {
		for i := 1; i < len(imgs); i++ {
			imgs[i].prev = imgs[i-1]
		}
	}
	slices.SortStableFunc(b.all, compareProcs)
	for _, p := range slices.Backward(b.all) {
		r := p.Record
		parent, exec := p.prev, true // a later program of the same process (the collector's naming)
		switch {
		case parent != nil:
			p.Entry = false // the entry is the process's first program
		case p.Entry:
			// The entry's parent is outside the session by definition.
		case r.ParentExecID != "" && r.ParentExecID != r.ExecID:
			parent = b.at(r.ParentExecID, r.Time)
			// A new exec_id for the same pid (Tetragon's naming).
			exec = parent != nil && r.PID != 0 && parent.Record.PID == r.PID
		}
		if parent == nil || ancestorOf(p, parent) {
			p.Orphan = !p.Entry
			continue
		}
		p.Parent, p.Exec = parent, exec
	}
}

// ancestorOf reports whether p is q or one of q's ancestors.
func ancestorOf(p, q *Process) bool {
	for ; q != nil; q = q.Parent {
		if q == p {
			return true
		}
	}
	return false
}

func compareProcs(a, b *Process) int {
	if c := cmp.Compare(a.Time(), b.Time()); c != 0 {
		return c
	}
	return cmp.Compare(a.order, b.order)
}

func sortRecords(rs []record.Record) {
	slices.SortStableFunc(rs, func(a, b record.Record) int { return cmp.Compare(a.Time, b.Time) })
}

// sessionID is the entry's session (or exec_id), else the first session
// named by a record.
func sessionID(records []record.Record) string {
	for i := range records {
		if r := &records[i]; r.Source == field.Cmd && r.SessionEntry {
			if r.Session != "" {
				return r.Session
			}
			return r.ExecID
		}
	}
	for i := range records {
		if records[i].Session != "" {
			return records[i].Session
		}
	}
	return ""
}

// processOf keeps a connection record's scope and process fields.
func processOf(n *record.Record) record.Record {
	return record.Record{
		Time:         n.Time,
		Source:       n.Source,
		Cluster:      n.Cluster,
		Host:         n.Host,
		HostMAC:      n.HostMAC,
		Namespace:    n.Namespace,
		Workload:     n.Workload,
		WorkloadKind: n.WorkloadKind,
		Pod:          n.Pod,
		Container:    n.Container,
		ContainerID:  n.ContainerID,
		Image:        n.Image,
		Comm:         n.Comm,
		Exe:          n.Exe,
		PID:          n.PID,
		PPID:         n.PPID,
		ExecID:       n.ExecID,
		ParentExecID: n.ParentExecID,
		Session:      n.Session,
		K8sUser:      n.K8sUser,
		K8sGroups:    n.K8sGroups,
	}
}
