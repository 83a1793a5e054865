package storage

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// ErrClosed is returned by operations on a closed DB.
var ErrClosed = errors.New("storage: closed")

// Options configure a DB.
type Options struct {
	// Dir is the directory holding the database; Open creates it.
	Dir string
	// Retention is how long entries are kept: Enforce deletes entries older
	// than now-Retention. 0 keeps entries forever.
	Retention time.Duration
	// MaxDiskBytes caps the disk space the store uses (see Stats.DiskBytes):
	// when it uses more, Enforce evicts the oldest entries until it uses at
	// most 90% of the cap. 0 means no cap.
	MaxDiskBytes int64
	// IndexedMetadata names the metadata with an equality index, e.g.
	// ["session", "exec_id"], which Scan uses for ScanQuery.Metadata.
	IndexedMetadata []string
	// GroupMetadata names the metadata kept in the in-memory point index as
	// a group id, e.g. ["pod", "container", "container_id"].
	GroupMetadata []string
	// CacheBytes is the size of Pebble's block cache; 0 means 32 MiB.
	CacheBytes int64
	// EnforceInterval is how often Run calls Enforce; 0 means one minute.
	EnforceInterval time.Duration
}

// DB is an embedded log store on Pebble. All methods are safe for
// concurrent use.
type DB struct {
	opts    Options
	pdb     *pebble.DB
	indexed map[string]bool
	grouped map[string]bool

	life struct {
		sync.Mutex
		cond     sync.Cond
		inflight int
		closed   bool
	}

	// wmu serializes writers (Append and Enforce) and guards w.
	wmu sync.Mutex
	w   writer

	view atomic.Pointer[dictView]
	idx  pointIndex

	statsMu sync.Mutex
	stats   []streamStats // by stream id

	retentionDeleted atomic.Int64
	diskCapDeleted   atomic.Int64
	duplicates       atomic.Int64
}

// Open opens or creates the database in opts.Dir and rebuilds the in-memory
// state (stream dictionary, point index) from what is on disk.
func Open(opts Options) (*DB, error) {
	if opts.Dir == "" {
		return nil, errors.New("open storage: no directory")
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 32 << 20
	}
	if opts.EnforceInterval <= 0 {
		opts.EnforceInterval = time.Minute
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create directory: %w", err)
	}
	// Pebble charges memtables to the block cache: give it room for the
	// usual two (one filling, one flushing) on top of CacheBytes.
	cache := pebble.NewCache(opts.CacheBytes + 2*memTableSize)
	defer cache.Unref()
	pdb, err := pebble.Open(opts.Dir, pebbleOptions(cache))
	if err != nil {
		return nil, fmt.Errorf("open pebble: %w", err)
	}
	db := &DB{
		opts:    opts,
		pdb:     pdb,
		indexed: nameSet(opts.IndexedMetadata),
		grouped: nameSet(opts.GroupMetadata),
	}
	db.life.cond.L = &db.life.Mutex
	db.w.init()
	if err := db.load(); err != nil {
		_ = pdb.Close()
		return nil, err
	}
	return db, nil
}

func nameSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// pebbleOptions tunes Pebble for append-mostly, time-ordered log data.
func pebbleOptions(cache *pebble.Cache) *pebble.Options {
	o := &pebble.Options{
		Cache:                       cache,
		FormatMajorVersion:          pebble.FormatNewest,
		MemTableSize:                memTableSize,
		MemTableStopWritesThreshold: memTableStopWrites,
		Logger:                      quietLogger{},
	}
	for i := range o.TargetFileSizes {
		o.TargetFileSizes[i] = 8 << 20
	}
	o.TargetFileSizes[0] = 4 << 20
	for i := range o.Levels {
		l := &o.Levels[i]
		l.BlockSize = blockSize
		l.IndexBlockSize = 256 << 10
		l.FilterPolicy = bloomPolicy
		l.Compression = compressionFor(i)
	}
	return o
}

// quietLogger drops Pebble's informational messages.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	pebble.DefaultLogger.Errorf(format, args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}

// enter registers an operation that uses Pebble; exit ends it.
func (db *DB) enter() error {
	db.life.Lock()
	defer db.life.Unlock()
	if db.life.closed {
		return ErrClosed
	}
	db.life.inflight++
	return nil
}

func (db *DB) exit() {
	db.life.Lock()
	defer db.life.Unlock()
	db.life.inflight--
	if db.life.inflight == 0 {
		db.life.cond.Broadcast()
	}
}

// Close waits for running operations to finish and closes the database.
// Calls made after Close return ErrClosed (the in-memory methods return
// the last state). Closing twice is a no-op.
func (db *DB) Close() error {
	db.life.Lock()
	if db.life.closed {
		db.life.Unlock()
		return nil
	}
	db.life.closed = true
	for db.life.inflight > 0 {
		db.life.cond.Wait()
	}
	db.life.Unlock()
	if err := db.pdb.Close(); err != nil {
		return fmt.Errorf("close pebble: %w", err)
	}
	return nil
}

// StreamInfo describes one stream.
type StreamInfo struct {
	// ID is the stream's id, stable for the life of the store.
	ID     uint32
	Labels stream.Labels
	// MinTime and MaxTime are the times of its oldest and newest entries.
	MinTime, MaxTime int64
	// Entries is how many entries it has.
	Entries int64
	// Bytes is the sum of its entries' line lengths.
	Bytes int64
}

// Streams returns every stream with at least one stored entry, by id.
func (db *DB) Streams() []StreamInfo {
	view := db.view.Load()
	db.statsMu.Lock()
	defer db.statsMu.Unlock()
	var out []StreamInfo
	for sid, s := range db.stats {
		if s.entries == 0 || sid >= len(view.streams) {
			continue
		}
		out = append(out, StreamInfo{
			ID:      uint32(sid),
			Labels:  slices.Clone(view.streams[sid]),
			MinTime: s.min,
			MaxTime: s.max,
			Entries: s.entries,
			Bytes:   s.bytes,
		})
	}
	return out
}

// Group returns the GroupMetadata pairs of group id (the non-empty ones), or
// nil for group 0 and unknown ids. The result must not be modified.
func (db *DB) Group(id uint32) stream.Labels {
	view := db.view.Load()
	if int(id) < len(view.groups) {
		return view.groups[id]
	}
	return nil
}

// Stats are counters about the store.
type Stats struct {
	// Entries and Streams are how many entries and non-empty streams are
	// stored.
	Entries, Streams int64
	// DiskBytes is the disk space used: sstables (live, obsolete and still
	// referenced), live WAL data, manifest and options files. WAL files
	// Pebble keeps for recycling are not counted.
	DiskBytes int64
	// RetentionDeleted and DiskCapDeleted count the entries Enforce deleted
	// since Open.
	RetentionDeleted, DiskCapDeleted int64
	// Duplicates counts the entries Append skipped as duplicates since Open.
	Duplicates int64
}

// Stats returns the store's counters.
func (db *DB) Stats() Stats {
	st := Stats{
		RetentionDeleted: db.retentionDeleted.Load(),
		DiskCapDeleted:   db.diskCapDeleted.Load(),
		Duplicates:       db.duplicates.Load(),
	}
	db.statsMu.Lock()
	for _, s := range db.stats {
		if s.entries > 0 {
			st.Entries += s.entries
			st.Streams++
		}
	}
	db.statsMu.Unlock()
	if db.enter() == nil {
		st.DiskBytes = db.diskBytes()
		db.exit()
	}
	return st
}

// diskBytes is the disk space Pebble uses, without recycled WAL files.
func (db *DB) diskBytes() int64 {
	m := db.pdb.Metrics()
	u := m.DiskSpaceUsage() - m.WAL.PhysicalSize - m.WAL.ObsoletePhysicalSize + m.WAL.Size
	return int64(u)
}
