package storage

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// Memtables of 16 MiB take about half a second of ingest at the target
// rate; writes stall when four are waiting to be flushed.
const (
	memTableSize       = 16 << 20
	memTableStopWrites = 4
)

// blockSize is the uncompressed size of sstable data blocks: large blocks
// give the compressor more similar JSON to work with.
var blockSize = 32 << 10

// bloomPolicy lets the duplicate check's Get of an absent key skip tables.
var bloomPolicy pebble.FilterPolicy = bloom.FilterPolicy(10)

// compressionFor returns the block compression of LSM level l: fast MinLZ
// for L0, which is soon rewritten, zstd below.
func compressionFor(l int) func() *sstable.CompressionProfile {
	if l == 0 {
		return func() *sstable.CompressionProfile { return sstable.FastestCompression }
	}
	return func() *sstable.CompressionProfile { return sstable.ZstdCompression }
}
