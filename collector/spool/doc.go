// Package spool is the collector's durable on-disk queue between capture
// and shipping: the capture side appends entries (opaque payloads), one
// shipper reads them in batches and acknowledges each batch once Loki
// took it. An entry leaves the spool only once acknowledged, or when the
// full policy drops it (counted).
//
// # Guarantees
//
//   - Every Append that returned is delivered after a kill -9 of the
//     process and a restart: the entries are in the page cache when Append
//     returns. A power loss may take the last SyncInterval of appends and
//     acknowledgements (an acknowledgement lost replays its entries).
//   - Delivery is at least once and in append order: after Open, reading
//     starts at the last persisted ack position, so entries read but not
//     acknowledged are read again. The entries of one Append are written
//     in order and together (but under Block, where another Append may
//     slip in while it waits for room).
//   - The segment files never exceed Options.MaxBytes together; when full,
//     Options.Full decides (drop the oldest segments, refuse the newest
//     entries, or block), and every entry lost is counted.
//   - Open never fails on corrupt data: it checks every frame and drops
//     the rest of a segment from the first torn or corrupt frame on,
//     counting it in Stats.Corrupt. Read returns only entries whose
//     checksum holds.
//   - One spool per directory: Open takes an flock on LOCK and fails with
//     ErrLocked while another spool (any process) holds it.
//
// # Format
//
// A spool directory holds:
//
//	00000000000000000001.seg  segments: sequence number, 20 digits, then .seg
//	POSITION                  the ack position, replaced by rename
//	LOCK                      flock'ed while open; holds the owner's pid
//
// A segment is a run of frames, each
//
//	uint32 length | uint32 CRC-32C(length bytes, payload) | payload
//
// little-endian, appended until the next frame would take the segment past
// SegmentBytes; then a new segment, numbered one up, is started. The
// checksum covers the length so that zeroes (what a file system may leave
// after a crash) never parse as entries.
//
// POSITION is 28 bytes: "SPOOLPO\x01" | uint64 segment sequence number |
// uint64 offset of the first unacknowledged frame in it | CRC-32C of the
// 24 bytes before. Segments before the position's are wholly acknowledged
// and deleted; a missing or corrupt POSITION replays everything.
//
// Open scans every segment (so Stats.Entries is right after a restart),
// truncates each at its first bad frame and deletes empty and wholly
// acknowledged segments but the newest. Drop-oldest deletes whole
// segments, read or not, and moves the ack position past them.
package spool
