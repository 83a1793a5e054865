package push

import (
	"encoding/binary"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// rawPair is a label or metadata pair as read from the body: spans of the
// decompressed body (JSON strings already unescaped in place).
type rawPair struct {
	name, value []byte
}

// builder assembles the decoded request: it validates streams and entries
// and turns the body's spans into the result's strings. Both decoders feed
// it.
type builder struct {
	lim     Limits
	maxTime int64 // entries after this (Unix ns) are too new

	arena   arena
	streams []stream.Stream
	keys    map[string]int           // label-set key → index in streams
	byRaw   map[string]int           // protobuf label string → index in streams
	names   map[string]*metadataName // valid metadata names seen
	interns map[string]string        // JSON label strings seen (bounded)
	slab    []stream.Label           // metadata label sets are carved from it
	keyBuf  []byte
	scratch stream.Labels
}

// metadataName is a structured-metadata name seen in the request, with the
// last value it had: consecutive entries of a stream mostly repeat their
// metadata (pod, container, ...), and then share its strings.
type metadataName struct {
	name, last string
}

// maxInterned bounds the strings remembered by intern.
const maxInterned = 4096

func newBuilder(lim Limits, now time.Time, bodyLen int) *builder {
	b := &builder{
		lim:     lim,
		maxTime: addSaturating(now.UnixNano(), int64(lim.CreationGracePeriod)),
		keys:    make(map[string]int),
		byRaw:   make(map[string]int),
		names:   make(map[string]*metadataName),
		interns: make(map[string]string),
	}
	b.arena.init(bodyLen)
	return b
}

// addSaturating returns a+d, clamped to the int64 range (d ≥ 0).
func addSaturating(a, d int64) int64 {
	if a > 0 && d > 1<<63-1-a {
		return 1<<63 - 1
	}
	return a + d
}

// result returns the streams decoded so far (nil when there are none).
func (b *builder) result() []stream.Stream {
	if len(b.streams) == 0 {
		return nil
	}
	return b.streams
}

// resolve finds or creates the stream of label set ls (which it may
// reorder and filter; it is not kept), validating a new one.
func (b *builder) resolve(ls stream.Labels) (int, error) {
	// Loki drops labels with empty values before validating (an empty
	// value is the same as an absent label).
	n := 0
	for _, l := range ls {
		if l.Value != "" {
			ls[n] = l
			n++
		}
	}
	ls = ls[:n]
	if len(ls) == 0 {
		return 0, invalidf(msgMissingLabels)
	}
	sortLabels(ls)

	b.keyBuf = appendKey(b.keyBuf[:0], ls)
	if i, ok := b.keys[string(b.keyBuf)]; ok {
		return i, nil
	}
	if err := b.validateLabels(ls); err != nil {
		return 0, err
	}
	own := make(stream.Labels, len(ls))
	copy(own, ls)
	b.streams = append(b.streams, stream.Stream{Labels: own})
	i := len(b.streams) - 1
	b.keys[string(b.keyBuf)] = i
	return i, nil
}

// appendKey appends a key that identifies the sorted label set ls.
func appendKey(dst []byte, ls stream.Labels) []byte {
	for _, l := range ls {
		dst = binary.AppendUvarint(dst, uint64(len(l.Name)))
		dst = append(dst, l.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(l.Value)))
		dst = append(dst, l.Value...)
	}
	return dst
}

// sortLabels sorts a small label set by name (insertion sort: sets are
// small and often nearly sorted).
func sortLabels(ls stream.Labels) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].Name < ls[j-1].Name; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// addEntry validates an entry of stream si and appends it to the stream.
func (b *builder) addEntry(si int, ts int64, line []byte, pairs []rawPair) error {
	if err := b.validateEntry(si, ts, len(line)); err != nil {
		return err
	}
	md, err := b.metadata(si, pairs)
	if err != nil {
		return err
	}
	s := &b.streams[si]
	s.Entries = append(s.Entries, stream.Entry{Time: ts, Line: b.arena.str(line), Metadata: md})
	return nil
}

// metadata turns an entry's structured metadata into a sorted, validated
// label set carved from the slab.
func (b *builder) metadata(si int, pairs []rawPair) (stream.Labels, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	md := b.labels(len(pairs))
	for i, p := range pairs {
		n, ok := b.names[string(p.name)]
		if !ok {
			if err := b.validateMetadataName(si, p.name); err != nil {
				return nil, err
			}
			n = &metadataName{name: b.arena.str(p.name)}
			b.names[n.name] = n
		}
		if string(p.value) != n.last {
			n.last = b.arena.str(p.value)
		}
		md[i] = stream.Label{Name: n.name, Value: n.last}
	}
	sortLabels(md)
	for i := 1; i < len(md); i++ {
		if md[i].Name == md[i-1].Name {
			return nil, invalidf(msgDuplicateMetadata, b.streams[si].Labels, md[i].Name)
		}
	}
	return md, nil
}

// intern returns v as a string, shared with earlier equal strings.
func (b *builder) intern(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	if s, ok := b.interns[string(v)]; ok {
		return s
	}
	s := b.arena.str(v)
	if len(b.interns) < maxInterned {
		b.interns[s] = s
	}
	return s
}

// labels returns a label set of length and capacity n carved from the slab.
func (b *builder) labels(n int) stream.Labels {
	if cap(b.slab)-len(b.slab) < n {
		size := 2 * cap(b.slab)
		size = min(max(size, 64), 8192)
		b.slab = make([]stream.Label, 0, max(size, n))
	}
	l := len(b.slab)
	b.slab = b.slab[:l+n]
	return b.slab[l : l+n : l+n]
}

// arena hands out strings copied into large shared blocks, so that a
// request's lines cost one copy and a few allocations. A block is never
// written again where a string was handed out of it.
//
// Every string comes from its own span of the body and is no longer than
// it, so the strings still to come are at most the body's length less what
// was handed out: blocks are never larger than that, which bounds the
// memory a request's strings keep alive to its strings plus one block.
type arena struct {
	sb   strings.Builder
	left int // at most this many bytes of strings are still to come
}

// arenaBlock is the largest block allocated ahead of need.
const arenaBlock = 256 << 10

// init prepares for the strings of a body of n bytes.
func (a *arena) init(n int) {
	a.left = n
}

// str returns b as a string.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if a.sb.Cap()-a.sb.Len() < len(b) {
		// A new block, rather than growing (and copying) the current one.
		a.sb = strings.Builder{}
		a.sb.Grow(max(len(b), min(a.left, arenaBlock)))
	}
	a.left -= len(b)
	start := a.sb.Len()
	a.sb.Write(b)
	return a.sb.String()[start:]
}
