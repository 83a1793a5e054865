package api

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A cursor continues a newest-first listing after the last item of a page:
// the next page ends at the time of that item (inclusive) and skips the
// items at exactly that time the listing already gave, by id. Any number of
// items may share a timestamp: none is lost or repeated. On the wire it is
// opaque (base64url of "time.id,id,...").
type cursor struct {
	time int64
	seen []uint64 // ids of the items at time already given
}

// maxSeen bounds the ids a cursor carries (items sharing one nanosecond).
const maxSeen = 2000

func (c cursor) String() string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(c.time, 10))
	for i, id := range c.seen {
		if i == 0 {
			b.WriteByte('.')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(id, 36))
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b.String()))
}

// parseCursor reads a cursor; it must lie in [from, to).
func parseCursor(s string, from, to time.Time) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, badParam("cursor", "not a cursor this API gave")
	}
	ts, ids, _ := strings.Cut(string(raw), ".")
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, badParam("cursor", "not a cursor this API gave")
	}
	c := &cursor{time: t}
	if ids != "" {
		for _, part := range strings.Split(ids, ",") {
			id, err := strconv.ParseUint(part, 36, 64)
			if err != nil || len(c.seen) == maxSeen {
				return nil, badParam("cursor", "not a cursor this API gave")
			}
			c.seen = append(c.seen, id)
		}
	}
	if t < from.UnixNano() || t >= to.UnixNano() {
		return nil, badParam("cursor", "the cursor lies outside the time range: keep from and to of the first page")
	}
	return c, nil
}

// end is where the next page's query ends (exclusive): just after the
// cursor's time, or to for the first page.
func (c *cursor) end(to time.Time) time.Time {
	if c == nil {
		return to
	}
	return time.Unix(0, c.time+1)
}

// skip reports whether an item was given before the cursor.
func (c *cursor) skip(t int64, id uint64) bool {
	return c != nil && t == c.time && slices.Contains(c.seen, id)
}

// extra is how many more items than a page the next query must fetch.
func (c *cursor) extra() int {
	if c == nil {
		return 0
	}
	return len(c.seen)
}

// page cuts items (newest first, already past the cursor) to limit and
// returns the cursor after the page; nil when items held no more than limit.
func page[T any](items []T, key func(*T) (int64, uint64), prev *cursor, limit int) ([]T, *cursor) {
	if len(items) <= limit {
		return items, nil
	}
	items = items[:limit]
	last, _ := key(&items[len(items)-1])
	next := &cursor{time: last}
	if prev != nil && prev.time == last {
		next.seen = append(next.seen, prev.seen...)
	}
	for i := len(items) - 1; i >= 0; i-- {
		t, id := key(&items[i])
		if t != last {
			break
		}
		next.seen = append(next.seen, id)
	}
	return items, next
}
