package storage

import (
	"encoding/binary"
	"strings"
	"unsafe"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// An entry's value is
//
//	uvarint group id | uvarint n | n × (uvarint name id | uvarint len | value) | line
//
// The group id stands for the entry's non-empty GroupMetadata pairs (the pod,
// container and container_id of an activity record, about 100 bytes, become
// one or two bytes); the n pairs are the rest of the metadata, sorted by name.

// pairRef is one metadata pair of a decoded value; val aliases the value.
type pairRef struct {
	nid uint32
	val []byte
}

// rawValue is a decoded entry value; its slices alias the encoded bytes.
type rawValue struct {
	gid   uint32
	pairs []pairRef
	line  []byte
}

// parseValue decodes v, reusing pairs.
func parseValue(v []byte, pairs []pairRef) (rawValue, bool) {
	gid, v, ok := uvarint(v)
	if !ok || gid > 1<<32-1 {
		return rawValue{}, false
	}
	n, v, ok := uvarint(v)
	if !ok || n > uint64(len(v)) {
		return rawValue{}, false
	}
	pairs = pairs[:0]
	for range n {
		var nid uint64
		if nid, v, ok = uvarint(v); !ok || nid > 1<<32-1 {
			return rawValue{}, false
		}
		var val []byte
		if val, v, ok = lenPrefixed(v); !ok {
			return rawValue{}, false
		}
		pairs = append(pairs, pairRef{nid: uint32(nid), val: val})
	}
	return rawValue{gid: uint32(gid), pairs: pairs, line: v}, true
}

// bytesString returns b as a string sharing its memory: valid only as long
// as b is.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// metadata merges the group's labels and the value's pairs into dst, sorted
// by name. Values of the pairs alias the value bytes.
func (rv *rawValue) metadata(view *dictView, dst stream.Labels) stream.Labels {
	dst = dst[:0]
	var group stream.Labels
	if int(rv.gid) < len(view.groups) {
		group = view.groups[rv.gid]
	}
	i := 0
	for _, p := range rv.pairs {
		name := view.name(p.nid)
		for i < len(group) && group[i].Name < name {
			dst = append(dst, group[i])
			i++
		}
		dst = append(dst, stream.Label{Name: name, Value: bytesString(p.val)})
	}
	return append(dst, group[i:]...)
}

// has reports whether the value carries metadata pair name=value, where nid
// is the name's id and groupHas tells whether a group carries the pair.
func (rv *rawValue) has(nid uint32, value string, groupHas func(uint32) bool) bool {
	for _, p := range rv.pairs {
		if p.nid == nid {
			return bytesString(p.val) == value
		}
	}
	return groupHas(rv.gid)
}

// sameEntry reports whether two encoded values hold the same line and
// metadata, also when they were written under different group settings.
func sameEntry(view *dictView, a, b []byte) bool {
	if string(a) == string(b) {
		return true
	}
	ra, ok1 := parseValue(a, nil)
	rb, ok2 := parseValue(b, nil)
	if !ok1 || !ok2 || string(ra.line) != string(rb.line) {
		return false
	}
	return ra.metadata(view, nil).Equal(rb.metadata(view, nil))
}

// sortedLabels returns ls sorted by name, copying only when it is not.
func sortedLabels(ls stream.Labels) stream.Labels {
	for i := 1; i < len(ls); i++ {
		if strings.Compare(ls[i-1].Name, ls[i].Name) > 0 {
			c := append(stream.Labels(nil), ls...)
			c.Sort()
			return c
		}
	}
	return ls
}

// appendPair appends one encoded metadata pair.
func appendPair(dst []byte, nid uint32, value string) []byte {
	dst = binary.AppendUvarint(dst, uint64(nid))
	dst = binary.AppendUvarint(dst, uint64(len(value)))
	return append(dst, value...)
}
