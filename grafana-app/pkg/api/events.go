package api

import (
	"context"
	"net/http"
	"time"

	"github.com/activityaudit/activityaudit/pkg/logql"
)

// Page sizes of /events and /policy-events.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// events lists records newest first:
//
//	GET /events?from&to&sources&filter&limit=100&cursor=
//	→ {"records":[record...],"next":"<cursor>"}
//
// "next" is absent on the last page; pass it as cursor, with the same
// from, to, sources and filter, for the next page.
func (a *API) events(ctx context.Context, r *http.Request) (any, error) {
	p, err := a.readParams(r, time.Hour)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit", DefaultLimit, 1, MaxLimit)
	if err != nil {
		return nil, err
	}
	cur, err := parseCursor(r.URL.Query().Get("cursor"), p.From, p.To)
	if err != nil {
		return nil, err
	}
	req, err := logql.Events(p.Scope, p.From, cur.end(p.To), limit+cur.extra()+1)
	if err != nil {
		return nil, err
	}
	q := &requestStore{store: a.store}
	defer q.release() // the answer is written out below
	got, err := q.logs(ctx, req)
	if err != nil {
		return nil, err
	}
	fresh := got[:0]
	for _, e := range got {
		if !cur.skip(e.rec.Time, e.id) {
			fresh = append(fresh, e)
		}
	}
	items, next := page(fresh, func(e *entry) (int64, uint64) { return e.rec.Time, e.id }, cur, limit)

	b := answerBuffer(64 + len(items)*700)
	b = append(b, `{"records":[`...)
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, items[i].obj...)
	}
	b = append(b, ']')
	if next != nil {
		b = append(b, `,"next":"`...)
		b = append(b, next.String()...)
		b = append(b, '"')
	}
	b = append(b, "}\n"...)
	return pooledJSON(b), nil
}
