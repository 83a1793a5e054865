package proctable

// Sessions. An exec session starts at an entry process: one that enters a
// running container from outside (runc exec, nsenter, kubectl exec through
// the runtime). It is in a container, its real parent is outside the
// container, and it is not the container's init. Its descendants inherit
// the session (even into a pid namespace of their own); the init's tree has
// none.
//
// In a container: its pid namespace is not the host's, or (with a
// ContainerLookup) its cgroup is a container's. Parent outside: the parent's
// pid namespace differs, or, in the host's pid namespace, the parent's
// cgroup is not this container's.
// The init: NSPID 1 (runc run makes a new pid namespace), or else the first
// process with a parent outside seen in the (pid namespace, container): a
// pod's containers share the pause container's namespace, where each
// container's first process is its init.

// ctrRef names a container for the init set: by id when the cgroup is
// known to be a container's, else by cgroup id.
type ctrRef struct {
	pidNS    uint32
	cgroupID uint64
	id       string
}

// container tells whether a process (by pid namespace and cgroup) is in a
// container, and which.
func (t *Table) container(pidNS uint32, cgroupID uint64) (ctrRef, bool) {
	if t.cfg.Containers != nil && cgroupID != 0 {
		if info, ok := t.cfg.Containers.Container(cgroupID); ok {
			return ctrRef{pidNS: pidNS, id: info.ID}, true
		}
	}
	return ctrRef{pidNS: pidNS, cgroupID: cgroupID}, pidNS != 0 && pidNS != t.cfg.HostPidNS
}

// classify places a process that just exec'd: it stays in a session it
// inherited, or an entry or init it already was; otherwise it inherits its
// parent's session, or starts one when it entered a container.
// parentPidNS is the pid namespace of its real parent now (0: unknown).
func (t *Table) classify(e, parent *entry, parentPidNS uint32) {
	if e.has(flagEntry|flagInit) || !e.session.zero() {
		return
	}
	if parent != nil && !parent.session.zero() {
		e.session = parent.session
		if e.auditID == "" {
			e.auditID = parent.auditID
		}
		return
	}
	ref, in := t.container(e.pidNS, e.cgroupID)
	if !in {
		return
	}
	outside := parentPidNS != e.pidNS
	// In the host's pid namespace only the cgroup tells a container's
	// processes (hostPID pods) from the runtime that started them.
	if !outside && e.pidNS == t.cfg.HostPidNS && parent != nil && t.cfg.Containers != nil {
		pref, pin := t.container(parent.pidNS, parent.cgroupID)
		outside = !pin || pref.id != ref.id || pref.cgroupID != ref.cgroupID
	}
	if !outside {
		return
	}
	if e.nsPID == 1 || !t.inits.has(ref) {
		t.inits.add(ref)
		e.flags |= flagInit
		t.ctrInit[ref] = e
		return
	}
	e.flags |= flagEntry
	e.session = e.key
}

// initSet is a bounded set of containers whose init was seen; the oldest
// go first.
type initSet struct {
	m    map[ctrRef]struct{}
	ring []ctrRef // grows to max, then wraps
	next int
	max  int
}

func newInitSet(max int) initSet {
	return initSet{m: make(map[ctrRef]struct{}), max: max}
}

func (s *initSet) has(r ctrRef) bool {
	_, ok := s.m[r]
	return ok
}

func (s *initSet) add(r ctrRef) {
	if s.has(r) {
		return
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, r)
	} else {
		delete(s.m, s.ring[s.next])
		s.ring[s.next] = r
		s.next = (s.next + 1) % len(s.ring)
	}
	s.m[r] = struct{}{}
}
