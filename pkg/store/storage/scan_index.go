package storage

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// byIndex serves a Scan whose metadata filter is on an indexed name: per
// bucket, in scan order, it reads the index keys of the pair (they sort by
// time, stream and sequence, which is the scan order) and gets each entry.
// An index key may outlive its entry (Enforce drops the index a bucket at a
// time), so every entry is checked to carry the pair.
func (s *scanner) byIndex(plan []bucketPlan, nid uint32, value string) error {
	it, err := s.snap.NewIter(nil)
	if err != nil {
		return fmt.Errorf("create iterator: %w", err)
	}
	defer it.Close()
	var prefix, lo, hi, key []byte
	var refs []entryRef
	for i := range plan {
		b := plan[i].id
		if s.q.Backward {
			b = plan[len(plan)-1-i].id
		}
		prefix = appendIndexPrefix(prefix[:0], b, nid, value)
		lo = append(lo[:0], prefix...)
		if bucketOf(s.q.From) == b {
			lo = appendTimeBound(lo, s.q.From)
		}
		if bucketOf(s.q.Through) == b {
			hi = appendTimeBound(append(hi[:0], prefix...), s.q.Through)
		} else {
			hi = prefixEnd(hi[:0], prefix)
		}
		it.SetBounds(lo, hi)
		refs = refs[:0]
		for ok := it.First(); ok; ok = it.Next() {
			ref, ok := parseIndexSuffix(it.Key()[len(prefix):])
			if !ok {
				return fmt.Errorf("read index key %x: %w", it.Key(), errCorrupt)
			}
			if s.want == nil || s.want(ref.sid) {
				refs = append(refs, ref)
			}
		}
		if err := it.Error(); err != nil {
			return fmt.Errorf("read index: %w", err)
		}
		if !s.q.Backward {
			for _, r := range refs {
				if more, err := s.get(r, &key); err != nil || !more {
					return err
				}
			}
			continue
		}
		// Newest first, but entries of equal time in ascending order.
		for j := len(refs); j > 0; {
			k := j - 1
			for k > 0 && refs[k-1].ts == refs[j-1].ts {
				k--
			}
			for _, r := range refs[k:j] {
				if more, err := s.get(r, &key); err != nil || !more {
					return err
				}
			}
			j = k
		}
	}
	return nil
}

// get reads the entry r and passes it to fn if it matches.
func (s *scanner) get(r entryRef, key *[]byte) (bool, error) {
	if err := s.tick(); err != nil {
		return false, err
	}
	*key = appendEntryKey((*key)[:0], r.sid, r.ts, r.seq)
	v, closer, err := s.snap.Get(*key)
	if errors.Is(err, pebble.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("get entry: %w", err)
	}
	defer closer.Close()
	return s.emit(r.sid, r.ts, v)
}
