package storage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// EnforceStats reports what one Enforce deleted.
type EnforceStats struct {
	// RetentionDeleted counts entries deleted for being older than the
	// retention; DiskCapDeleted those evicted to meet the disk cap.
	RetentionDeleted, DiskCapDeleted int64
}

// Enforce deletes what Options.Retention and Options.MaxDiskBytes require,
// oldest entries first, and returns what it deleted. Deleted entries vanish
// from Scan, Points and Streams at once; a stream with no entries left
// disappears from Streams. To meet the disk cap it compacts the deleted
// range, so the space is given back before it returns; when the store uses
// more than the cap it evicts entries until it uses at most 90% of it.
func (db *DB) Enforce(now time.Time) (EnforceStats, error) {
	if err := db.enter(); err != nil {
		return EnforceStats{}, err
	}
	defer db.exit()
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var st EnforceStats
	if r := db.opts.Retention; r > 0 {
		cutoff := now.UnixNano() - int64(r)
		n, err := db.deleteBefore(cutoff)
		st.RetentionDeleted = n
		db.retentionDeleted.Add(n)
		if err != nil {
			return st, err
		}
	}
	if limit := db.opts.MaxDiskBytes; limit > 0 {
		if st.RetentionDeleted > 0 {
			if err := db.reclaim(); err != nil {
				return st, err
			}
		}
		n, err := db.enforceCap(limit)
		st.DiskCapDeleted = n
		db.diskCapDeleted.Add(n)
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// enforceCap evicts the oldest entries while the store uses more than
// 90% of limit, if it uses more than limit even after a compaction.
func (db *DB) enforceCap(limit int64) (int64, error) {
	used := db.diskBytes()
	if used <= limit {
		return 0, nil
	}
	// Data not yet compacted may fit once it is.
	if err := db.reclaim(); err != nil {
		return 0, err
	}
	if used = db.diskBytes(); used <= limit {
		return 0, nil
	}
	target := limit - limit/10
	var deleted int64
	for used > target {
		total := int64(db.idx.count())
		if total == 0 {
			break
		}
		// Entries are about the same size: evict the share of them that
		// the excess is of the usage, a bit more to converge in few rounds.
		k := int64(math.Ceil(float64(total) * float64(used-target) / float64(used) * 1.05))
		k = min(max(k, 1), total)
		ts, _ := db.idx.timeAtRank(int(k - 1))
		var n int64
		var err error
		if ts == math.MaxInt64 {
			n, err = db.deleteAll()
		} else {
			n, err = db.deleteBefore(ts + 1)
		}
		deleted += n
		if err != nil {
			return deleted, err
		}
		if err := db.reclaim(); err != nil {
			return deleted, err
		}
		used = db.diskBytes()
	}
	return deleted, nil
}

// deleteBefore deletes every entry older than cutoff: whole buckets (and
// their index keys) with one range deletion per key space, and in the
// bucket holding cutoff the older part of each stream's range, from the
// stream's oldest entry on so that successive deletions do not overlap.
// Index keys of that part stay until their bucket goes: Scan checks what
// they point to.
func (db *DB) deleteBefore(cutoff int64) (int64, error) {
	cb := bucketOf(cutoff)
	oldest, ok := db.oldest()
	hasOld := ok && oldest < cutoff
	// The index keys of older buckets go from the start of their key space:
	// a bucket emptied by partial deletions may have left some.
	dropIndex := cb > db.w.indexFloor
	if !hasOld && !dropIndex {
		return 0, nil
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	var lo, hi []byte
	if first, ok := db.idx.firstBucket(); hasOld && ok && first < cb {
		lo = appendBucketKey(lo[:0], prefixEntry, first)
		hi = appendBucketKey(hi[:0], prefixEntry, cb)
		if err := b.DeleteRange(lo, hi, nil); err != nil {
			return 0, fmt.Errorf("delete buckets: %w", err)
		}
	}
	if dropIndex {
		hi = appendBucketKey(hi[:0], prefixIndex, cb)
		if err := b.DeleteRange([]byte{prefixIndex}, hi, nil); err != nil {
			return 0, fmt.Errorf("delete index buckets: %w", err)
		}
	}
	if hasOld && cutoff != cb*bucketNanos {
		stats := db.stats // only writers, serialized by wmu, change it
		for _, sid := range db.idx.present(cb) {
			if int(sid) >= len(stats) || stats[sid].entries == 0 || stats[sid].min >= cutoff {
				continue
			}
			lo = appendEntryHead(lo[:0], cb, sid)
			hi = appendTimeBound(append(hi[:0], lo...), cutoff)
			if oldest := stats[sid].min; bucketOf(oldest) == cb {
				lo = appendTimeBound(lo, oldest)
			}
			if err := b.DeleteRange(lo, hi, nil); err != nil {
				return 0, fmt.Errorf("delete entries: %w", err)
			}
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("commit deletion: %w", err)
	}
	if dropIndex {
		db.w.indexFloor = cb
	}
	n := db.idx.deleteBefore(cutoff)
	db.refreshStats()
	return n, nil
}

// deleteAll deletes every entry.
func (db *DB) deleteAll() (int64, error) {
	b := db.pdb.NewBatch()
	defer b.Close()
	for _, p := range []byte{prefixEntry, prefixIndex} {
		if err := b.DeleteRange([]byte{p}, []byte{p + 1}, nil); err != nil {
			return 0, fmt.Errorf("delete entries: %w", err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("commit deletion: %w", err)
	}
	n := db.idx.clear()
	db.refreshStats()
	return n, nil
}

// oldest returns the time of the oldest entry.
func (db *DB) oldest() (int64, bool) {
	db.statsMu.Lock()
	defer db.statsMu.Unlock()
	ts, ok := int64(math.MaxInt64), false
	for _, s := range db.stats {
		if s.entries > 0 {
			ts, ok = min(ts, s.min), true
		}
	}
	return ts, ok
}

// refreshStats recomputes the stream statistics from the point index.
func (db *DB) refreshStats() {
	st := db.idx.stats()
	db.statsMu.Lock()
	db.stats = st
	db.statsMu.Unlock()
}

// reclaim flushes and compacts the deleted key ranges so that their space
// is freed, and waits (briefly) for Pebble to remove the obsolete files.
func (db *DB) reclaim() error {
	if err := db.pdb.Flush(); err != nil {
		return fmt.Errorf("flush memtable: %w", err)
	}
	first, ok := db.idx.firstBucket()
	for _, p := range []byte{prefixEntry, prefixIndex} {
		end := []byte{p + 1}
		if ok {
			end = appendBucketKey(nil, p, first+1)
		}
		if err := db.pdb.Compact(context.Background(), []byte{p}, end, true); err != nil {
			return fmt.Errorf("compact deleted range: %w", err)
		}
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		if db.pdb.Metrics().Table.Local.ObsoleteSize == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// Run calls Enforce now and then every Options.EnforceInterval until ctx
// is done, when it returns nil. It returns the first error of Enforce.
func (db *DB) Run(ctx context.Context) error {
	t := time.NewTicker(db.opts.EnforceInterval)
	defer t.Stop()
	for {
		if _, err := db.Enforce(time.Now()); err != nil {
			if errors.Is(err, ErrClosed) {
				return nil
			}
			return fmt.Errorf("enforce limits: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
