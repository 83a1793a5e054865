package storage

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// Key spaces, told apart by their first byte.
const (
	prefixEntry  = 'e' // e | bucket | stream | time | seq       -> value (see appendValue)
	prefixIndex  = 'x' // x | bucket | name | value | time | stream | seq -> empty
	prefixStream = 's' // s | stream id                          -> labels
	prefixGroup  = 'g' // g | group id                           -> labels
	prefixName   = 'n' // n | name id                            -> metadata name
	prefixMeta   = 'm' // m                                      -> settings
)

// bucketNanos is the width of a time bucket: the leading time component of
// entry and index keys, and the unit of the in-memory point index.
const bucketNanos = int64(time.Hour)

const (
	bucketLen   = 4
	streamLen   = 4
	timeLen     = 8
	entryHead   = 1 + bucketLen + streamLen // e | bucket | stream
	entryKeyLen = entryHead + timeLen       // without a seq suffix
)

var errCorrupt = errors.New("corrupt record")

// bucketOf returns the bucket holding time ts (floor division).
func bucketOf(ts int64) int64 {
	b := ts / bucketNanos
	if ts%bucketNanos < 0 {
		b--
	}
	return b
}

// The bucket of any int64 time fits in an int32; the sign bit is flipped so
// that byte order is numeric order.
func putBucket(dst []byte, b int64) { binary.BigEndian.PutUint32(dst, uint32(int32(b))^1<<31) }
func getBucket(src []byte) int64    { return int64(int32(binary.BigEndian.Uint32(src) ^ 1<<31)) }

func putTime(dst []byte, ts int64) { binary.BigEndian.PutUint64(dst, uint64(ts)^1<<63) }
func getTime(src []byte) int64     { return int64(binary.BigEndian.Uint64(src) ^ 1<<63) }

// appendSeq appends the order-preserving encoding of an entry's sequence
// number among entries of the same stream and time: nothing for 0 (the usual
// case), else a length byte and the minimal big-endian bytes.
func appendSeq(dst []byte, seq uint32) []byte {
	if seq == 0 {
		return dst
	}
	n := 4
	for n > 1 && seq>>(8*(n-1)) == 0 {
		n--
	}
	dst = append(dst, byte(n))
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(seq>>(8*i)))
	}
	return dst
}

// parseSeq decodes what appendSeq wrote.
func parseSeq(src []byte) (uint32, bool) {
	if len(src) == 0 {
		return 0, true
	}
	n := int(src[0])
	if n < 1 || n > 4 || len(src) != 1+n {
		return 0, false
	}
	var seq uint32
	for _, c := range src[1:] {
		seq = seq<<8 | uint32(c)
	}
	return seq, true
}

// appendEntryHead appends e | bucket | stream.
func appendEntryHead(dst []byte, b int64, sid uint32) []byte {
	dst = append(dst, prefixEntry, 0, 0, 0, 0)
	putBucket(dst[len(dst)-bucketLen:], b)
	return binary.BigEndian.AppendUint32(dst, sid)
}

// appendEntryKey appends the key of an entry.
func appendEntryKey(dst []byte, sid uint32, ts int64, seq uint32) []byte {
	dst = appendEntryHead(dst, bucketOf(ts), sid)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	putTime(dst[len(dst)-timeLen:], ts)
	return appendSeq(dst, seq)
}

// entryRef identifies one stored entry.
type entryRef struct {
	ts  int64
	sid uint32
	seq uint32
}

// parseEntryKey decodes an entry key.
func parseEntryKey(k []byte) (entryRef, bool) {
	if len(k) < entryKeyLen || k[0] != prefixEntry {
		return entryRef{}, false
	}
	seq, ok := parseSeq(k[entryKeyLen:])
	return entryRef{
		sid: binary.BigEndian.Uint32(k[1+bucketLen:]),
		ts:  getTime(k[entryHead:]),
		seq: seq,
	}, ok
}

// appendBucketKey appends p | bucket: the start of a bucket in key space p.
func appendBucketKey(dst []byte, p byte, b int64) []byte {
	dst = append(dst, p, 0, 0, 0, 0)
	putBucket(dst[len(dst)-bucketLen:], b)
	return dst
}

// appendIndexPrefix appends x | bucket | name id | len | value: the prefix of
// every index key of one metadata pair in one bucket.
func appendIndexPrefix(dst []byte, b int64, nid uint32, value string) []byte {
	dst = appendBucketKey(dst, prefixIndex, b)
	dst = binary.AppendUvarint(dst, uint64(nid))
	dst = binary.AppendUvarint(dst, uint64(len(value)))
	return append(dst, value...)
}

// appendIndexSuffix appends time | stream | seq to an index prefix.
func appendIndexSuffix(dst []byte, r entryRef) []byte {
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	putTime(dst[len(dst)-timeLen:], r.ts)
	dst = binary.BigEndian.AppendUint32(dst, r.sid)
	return appendSeq(dst, r.seq)
}

// parseIndexSuffix decodes the part of an index key after its prefix.
func parseIndexSuffix(s []byte) (entryRef, bool) {
	if len(s) < timeLen+streamLen {
		return entryRef{}, false
	}
	seq, ok := parseSeq(s[timeLen+streamLen:])
	return entryRef{ts: getTime(s), sid: binary.BigEndian.Uint32(s[timeLen:]), seq: seq}, ok
}

// appendTimeBound appends the time component used as an iterator bound.
func appendTimeBound(dst []byte, ts int64) []byte {
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	putTime(dst[len(dst)-timeLen:], ts)
	return dst
}

// prefixEnd returns the smallest key greater than every key starting with
// p, appended to dst, or nil when there is none (p is all 0xff).
func prefixEnd(dst, p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xff {
			dst = append(dst, p[:i+1]...)
			dst[len(dst)-1]++
			return dst
		}
	}
	return nil
}

func appendIDKey(dst []byte, p byte, id uint32) []byte {
	return binary.BigEndian.AppendUint32(append(dst, p), id)
}

// appendLabels encodes a label set: count, then length-prefixed names and
// values.
func appendLabels(dst []byte, ls stream.Labels) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ls)))
	for _, l := range ls {
		dst = appendString(dst, l.Name)
		dst = appendString(dst, l.Value)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decodeLabels decodes what appendLabels wrote, copying the strings.
func decodeLabels(src []byte) (stream.Labels, error) {
	n, src, ok := uvarint(src)
	if !ok || n > uint64(len(src)) {
		return nil, errCorrupt
	}
	ls := make(stream.Labels, 0, n)
	for range n {
		var name, value []byte
		if name, src, ok = lenPrefixed(src); !ok {
			return nil, errCorrupt
		}
		if value, src, ok = lenPrefixed(src); !ok {
			return nil, errCorrupt
		}
		ls = append(ls, stream.Label{Name: string(name), Value: string(value)})
	}
	if len(src) != 0 {
		return nil, errCorrupt
	}
	return ls, nil
}

func uvarint(src []byte) (uint64, []byte, bool) {
	v, n := binary.Uvarint(src)
	if n <= 0 {
		return 0, src, false
	}
	return v, src[n:], true
}

func lenPrefixed(src []byte) (b, rest []byte, ok bool) {
	n, src, ok := uvarint(src)
	if !ok || n > uint64(len(src)) {
		return nil, src, false
	}
	return src[:n], src[n:], true
}
