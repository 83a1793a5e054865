package kubeaudit

import (
	"container/heap"
	"container/list"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// tracker is the per-auditID state that makes one record per kube exec:
// the held (started, not ended) execs, and the auditIDs already emitted.
// Not safe for concurrent use: the Processor locks it.
//
// Every change is applied inside a tx; when the batch's records cannot be
// handed to the sink, rollback undoes the tx so that a redelivery (the API
// server retries a batch answered 5xx, the tailer re-reads its lines) gives
// the same records again.
type tracker struct {
	hold          time.Duration
	maxPending    int
	maxRemembered int
	remember      time.Duration
	rememberOpen  time.Duration

	pending map[string]*held
	queue   heldQueue // pending, by deadline
	seq     uint64

	seen  map[string]*memo // emitted auditIDs
	ended list.List        // *memo, ended, oldest first
	open  list.List        // *memo, emitted without their end, oldest first
}

// held is a started exec waiting for its ResponseComplete.
type held struct {
	id       string
	rec      *record.Record
	deadline time.Time
	seq      uint64
	index    int // in queue; -1 when not queued
}

// memo remembers an emitted auditID.
type memo struct {
	id    string
	ended bool      // its end was seen (emitted with it, or a late end)
	at    time.Time // when it was emitted, or when its late end came
	elem  *list.Element
}

// tx collects what a batch of events changed, and the records to emit.
type tx struct {
	out     []*record.Record
	changes []change

	duplicates     int
	lateEnds       int
	evictedPending int
	evictedMemos   int
}

// change is one undoable step of a tx.
type change struct {
	id          string
	addedHeld   *held // a hold the tx created
	removedHeld *held // a hold the tx consumed (ended, expired, evicted)
	addedMemo   *memo // a memo the tx created
	endedMemo   *memo // an open memo the tx marked ended (a late end)
	endedPrevAt time.Time
}

func newTracker(cfg Config) *tracker {
	return &tracker{
		hold:          cfg.Hold,
		maxPending:    cfg.MaxPending,
		maxRemembered: cfg.MaxRemembered,
		remember:      cfg.Remember,
		rememberOpen:  cfg.RememberOpen,
		pending:       make(map[string]*held),
		seen:          make(map[string]*memo),
	}
}

// apply updates the state with one event received at now.
func (t *tracker) apply(x *tx, e *auditv1.Event, now time.Time) {
	if !isKubeExec(e) {
		return
	}
	id := string(e.AuditID)
	switch e.Stage {
	case auditv1.StageResponseStarted:
		if t.pending[id] != nil || t.seen[id] != nil {
			x.duplicates++
			return
		}
		if len(t.pending) >= t.maxPending {
			x.evictedPending++
			t.releaseHeld(x, t.queue[0], now)
		}
		t.seq++
		h := &held{id: id, rec: toRecord(e), deadline: now.Add(t.hold), seq: t.seq}
		t.pending[id] = h
		heap.Push(&t.queue, h)
		x.changes = append(x.changes, change{id: id, addedHeld: h})

	case auditv1.StageResponseComplete, auditv1.StagePanic:
		if h := t.pending[id]; h != nil {
			t.unqueue(h)
			r := *h.rec
			r.EndTime = endTime(e)
			if code := responseCode(e); code != 0 {
				r.ResponseCode = code
			}
			m := t.addMemo(x, id, true, now)
			x.out = append(x.out, &r)
			x.changes = append(x.changes, change{id: id, removedHeld: h, addedMemo: m})
			return
		}
		if m := t.seen[id]; m != nil {
			if m.ended {
				x.duplicates++
				return
			}
			x.lateEnds++
			x.changes = append(x.changes, change{id: id, endedMemo: m, endedPrevAt: m.at})
			t.open.Remove(m.elem)
			m.ended, m.at = true, now
			m.elem = t.ended.PushBack(m)
			return
		}
		// Its end is all we see (a denied exec, kubectl debug's patch, or a
		// policy omitting ResponseStarted): time is when it was received.
		r := toRecord(e)
		if !e.RequestReceivedTimestamp.IsZero() {
			r.Time = e.RequestReceivedTimestamp.UnixNano()
		}
		r.EndTime = endTime(e)
		m := t.addMemo(x, id, true, now)
		x.out = append(x.out, r)
		x.changes = append(x.changes, change{id: id, addedMemo: m})
	}
	// RequestReceived: the ResponseStarted or ResponseComplete that follows
	// carries the same fields and the answer.
}

// release emits the holds whose deadline is at or before now (all of them
// when all is set), without end_time.
func (t *tracker) release(x *tx, now time.Time, all bool) {
	for len(t.queue) > 0 && (all || !t.queue[0].deadline.After(now)) {
		t.releaseHeld(x, t.queue[0], now)
	}
}

// releaseHeld emits h without end_time and remembers its auditID as open.
func (t *tracker) releaseHeld(x *tx, h *held, now time.Time) {
	t.unqueue(h)
	r := *h.rec
	m := t.addMemo(x, h.id, false, now)
	x.out = append(x.out, &r)
	x.changes = append(x.changes, change{id: h.id, removedHeld: h, addedMemo: m})
}

// unqueue forgets a hold.
func (t *tracker) unqueue(h *held) {
	if h.index >= 0 {
		heap.Remove(&t.queue, h.index)
	}
	delete(t.pending, h.id)
}

// addMemo remembers an emitted auditID, forgetting the oldest (ended ones
// first) past maxRemembered.
func (t *tracker) addMemo(x *tx, id string, ended bool, now time.Time) *memo {
	m := &memo{id: id, ended: ended, at: now}
	if ended {
		m.elem = t.ended.PushBack(m)
	} else {
		m.elem = t.open.PushBack(m)
	}
	t.seen[id] = m
	for len(t.seen) > t.maxRemembered {
		oldest := t.ended.Front()
		if oldest == nil || oldest.Value == m {
			oldest = t.open.Front()
		}
		if oldest == nil || oldest.Value == m {
			break
		}
		t.forget(oldest.Value.(*memo))
		x.evictedMemos++
	}
	return m
}

func (t *tracker) forget(m *memo) {
	if m.ended {
		t.ended.Remove(m.elem)
	} else {
		t.open.Remove(m.elem)
	}
	if t.seen[m.id] == m {
		delete(t.seen, m.id)
	}
}

// prune forgets the auditIDs remembered for longer than their window.
func (t *tracker) prune(now time.Time) {
	for _, l := range []struct {
		list   *list.List
		window time.Duration
	}{{&t.ended, t.remember}, {&t.open, t.rememberOpen}} {
		for e := l.list.Front(); e != nil; e = l.list.Front() {
			m := e.Value.(*memo)
			if now.Sub(m.at) < l.window {
				break
			}
			t.forget(m)
		}
	}
}

// rollback undoes x, newest change first. A change is undone only while the
// state still holds what x left (a concurrent batch may have moved on).
func (t *tracker) rollback(x *tx) {
	for i := len(x.changes) - 1; i >= 0; i-- {
		c := x.changes[i]
		switch {
		case c.addedMemo != nil && t.seen[c.id] == c.addedMemo:
			t.forget(c.addedMemo)
		case c.endedMemo != nil && t.seen[c.id] == c.endedMemo && c.endedMemo.ended:
			m := c.endedMemo
			t.ended.Remove(m.elem)
			m.ended, m.at = false, c.endedPrevAt
			m.elem = t.open.PushBack(m)
		}
		if c.removedHeld != nil && t.pending[c.id] == nil && t.seen[c.id] == nil {
			t.pending[c.id] = c.removedHeld
			heap.Push(&t.queue, c.removedHeld)
		}
		if c.addedHeld != nil && t.pending[c.id] == c.addedHeld {
			t.unqueue(c.addedHeld)
		}
	}
	x.out, x.changes = nil, nil
}

// heldQueue is a min-heap of holds by deadline, then arrival.
type heldQueue []*held

func (q heldQueue) Len() int { return len(q) }
func (q heldQueue) Less(i, j int) bool {
	if !q[i].deadline.Equal(q[j].deadline) {
		return q[i].deadline.Before(q[j].deadline)
	}
	return q[i].seq < q[j].seq
}
func (q heldQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *heldQueue) Push(x any) {
	h := x.(*held)
	h.index = len(*q)
	*q = append(*q, h)
}
func (q *heldQueue) Pop() any {
	old := *q
	h := old[len(old)-1]
	old[len(old)-1] = nil
	h.index = -1
	*q = old[:len(old)-1]
	return h
}
