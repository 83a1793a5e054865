package push

import (
	"fmt"
	"slices"
)

// The protobuf decoder reads Loki's push.PushRequest wire format directly
// (pkg/push/push.proto):
//
//	PushRequest   { repeated StreamAdapter streams = 1; string format = 2; }
//	StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
//	EntryAdapter  { Timestamp timestamp = 1; string line = 2;
//	                repeated LabelPairAdapter structuredMetadata = 3;
//	                repeated LabelPairAdapter parsed = 4; }
//	LabelPairAdapter { string name = 1; string value = 2; }
//	Timestamp     { int64 seconds = 1; int32 nanos = 2; }
//
// It accepts exactly what the gogo-generated push.PushRequest.Unmarshal
// accepts (same varint limits, wire-type checks, group skipping, last value
// wins for a repeated singular field) and yields the same values, without
// its per-entry allocations (checked by FuzzDecodeProtobuf). The parsed
// field, which Loki fills only in query answers, is checked and dropped.

// Wire types.
const (
	wireVarint     = 0
	wireFixed64    = 1
	wireBytes      = 2
	wireStartGroup = 3
	wireEndGroup   = 4
	wireFixed32    = 5
)

// Timestamp bounds, as google.protobuf.Timestamp's (years 1 to 9999).
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300800 // exclusive
)

// protoDecoder decodes one request into a builder.
type protoDecoder struct {
	b     *builder
	pairs []rawPair
}

func decodeProtobuf(b *builder, buf []byte) error {
	d := protoDecoder{b: b}
	r := wireReader{b: buf}
	for !r.done() {
		num, wt, err := r.field("PushRequest")
		if err != nil {
			return err
		}
		switch num {
		case 1:
			msg, err := r.bytesField(wt, "streams")
			if err != nil {
				return err
			}
			if err := d.stream(msg); err != nil {
				return err
			}
		case 2:
			if _, err := r.bytesField(wt, "format"); err != nil {
				return err
			}
		default:
			if err := r.skip(wt); err != nil {
				return err
			}
		}
	}
	return nil
}

// stream decodes a StreamAdapter: a first pass finds its labels and counts
// its entries, a second decodes the entries.
func (d *protoDecoder) stream(msg []byte) error {
	var (
		labels  []byte
		entries int
	)
	r := wireReader{b: msg}
	for !r.done() {
		num, wt, err := r.field("StreamAdapter")
		if err != nil {
			return err
		}
		switch num {
		case 1:
			if labels, err = r.bytesField(wt, "labels"); err != nil {
				return err
			}
		case 2:
			if _, err = r.bytesField(wt, "entries"); err != nil {
				return err
			}
			entries++
		case 3:
			if wt != wireVarint {
				return wrongWireType(wt, "hash")
			}
			if _, err = r.varint(); err != nil {
				return err
			}
		default:
			if err := r.skip(wt); err != nil {
				return err
			}
		}
	}
	if entries == 0 {
		return nil // Loki ignores a stream without entries
	}
	si, err := d.streamIndex(labels)
	if err != nil {
		return err
	}
	s := &d.b.streams[si]
	s.Entries = slices.Grow(s.Entries, entries)

	// The first pass checked the framing.
	r = wireReader{b: msg}
	for !r.done() {
		num, wt, err := r.field("StreamAdapter")
		if err != nil {
			return err
		}
		if num != 2 {
			if err := r.skip(wt); err != nil {
				return err
			}
			continue
		}
		e, err := r.bytesField(wt, "entries")
		if err != nil {
			return err
		}
		if err := d.entry(si, e); err != nil {
			return err
		}
	}
	return nil
}

// streamIndex resolves a label string to a stream, parsing each distinct
// string once.
func (d *protoDecoder) streamIndex(labels []byte) (int, error) {
	if i, ok := d.b.byRaw[string(labels)]; ok {
		return i, nil
	}
	s := string(labels)
	ls, err := parseLabelString(s, d.b.scratch[:0])
	d.b.scratch = ls[:0]
	if err != nil {
		return 0, invalidf(msgInvalidLabels, clip(s, maxLabelStringInError), err)
	}
	i, err := d.b.resolve(ls)
	if err != nil {
		return 0, err
	}
	d.b.byRaw[s] = i
	return i, nil
}

// entry decodes an EntryAdapter and adds it to stream si.
func (d *protoDecoder) entry(si int, msg []byte) error {
	var (
		ts     int64
		haveTS bool
		line   []byte
	)
	d.pairs = d.pairs[:0]
	r := wireReader{b: msg}
	for !r.done() {
		num, wt, err := r.field("EntryAdapter")
		if err != nil {
			return err
		}
		switch num {
		case 1:
			m, err := r.bytesField(wt, "timestamp")
			if err != nil {
				return err
			}
			if ts, err = d.timestamp(si, m); err != nil {
				return err
			}
			haveTS = true
		case 2:
			if line, err = r.bytesField(wt, "line"); err != nil {
				return err
			}
		case 3, 4:
			m, err := r.bytesField(wt, "structuredMetadata")
			if err != nil {
				return err
			}
			p, err := labelPair(m)
			if err != nil {
				return err
			}
			if num == 3 {
				d.pairs = append(d.pairs, p)
			}
		default:
			if err := r.skip(wt); err != nil {
				return err
			}
		}
	}
	if !haveTS {
		// Loki would take year 1 and refuse it as too old.
		return invalidf("entry for stream '%s' has no timestamp", d.b.streams[si].Labels)
	}
	return d.b.addEntry(si, ts, line, d.pairs)
}

// timestamp decodes a google.protobuf.Timestamp into Unix nanoseconds.
func (d *protoDecoder) timestamp(si int, msg []byte) (int64, error) {
	var (
		sec   int64
		nanos int32
	)
	r := wireReader{b: msg}
	for !r.done() {
		num, wt, err := r.field("Timestamp")
		if err != nil {
			return 0, err
		}
		switch num {
		case 1, 2:
			if wt != wireVarint {
				return 0, wrongWireType(wt, "Timestamp")
			}
			v, err := r.varint()
			if err != nil {
				return 0, err
			}
			if num == 1 {
				sec = int64(v)
			} else {
				nanos = int32(v)
			}
		default:
			if err := r.skip(wt); err != nil {
				return 0, err
			}
		}
	}
	if sec < minTimestampSeconds || sec >= maxTimestampSeconds || nanos < 0 || nanos >= 1e9 {
		return 0, invalidf("entry for stream '%s' has an invalid timestamp: %d seconds, %d nanoseconds", d.b.streams[si].Labels, sec, nanos)
	}
	// Unix nanoseconds cover 1677-09-21 00:12:43.145224192 to
	// 2262-04-11 23:47:16.854775807.
	const (
		maxSec, maxNanos = 9223372036, 854775807
		minSec, minNanos = -9223372037, 145224192
	)
	if sec < minSec || sec > maxSec || sec == maxSec && nanos > maxNanos || sec == minSec && nanos < minNanos {
		return 0, invalidf("entry for stream '%s' has a timestamp out of range: %d seconds", d.b.streams[si].Labels, sec)
	}
	return sec*1e9 + int64(nanos), nil
}

// labelPair decodes a LabelPairAdapter.
func labelPair(msg []byte) (rawPair, error) {
	var p rawPair
	r := wireReader{b: msg}
	for !r.done() {
		num, wt, err := r.field("LabelPairAdapter")
		if err != nil {
			return p, err
		}
		switch num {
		case 1:
			if p.name, err = r.bytesField(wt, "name"); err != nil {
				return p, err
			}
		case 2:
			if p.value, err = r.bytesField(wt, "value"); err != nil {
				return p, err
			}
		default:
			if err := r.skip(wt); err != nil {
				return p, err
			}
		}
	}
	return p, nil
}

// wireReader reads protobuf wire format.
type wireReader struct {
	b []byte
	i int
}

func (r *wireReader) done() bool { return r.i >= len(r.b) }

// protoError is the message of a body that is not a valid PushRequest.
func protoError(format string, args ...any) error {
	return invalidf("invalid protobuf push request: %s", fmt.Sprintf(format, args...))
}

var (
	errVarintOverflow = protoError("integer overflow")
	errTruncated      = protoError("unexpected end of message")
	errBadLength      = protoError("length out of range")
)

// varint reads a base-128 varint of at most 10 bytes (high bits of a 10th
// byte are dropped, as gogo-protobuf drops them).
func (r *wireReader) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= 64 {
			return 0, errVarintOverflow
		}
		if r.i >= len(r.b) {
			return 0, errTruncated
		}
		c := r.b[r.i]
		r.i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
}

// field reads a field's tag.
func (r *wireReader) field(msg string) (int32, int, error) {
	tag, err := r.varint()
	if err != nil {
		return 0, 0, err
	}
	num, wt := int32(tag>>3), int(tag&7)
	if wt == wireEndGroup {
		return 0, 0, protoError("%s: end group for non-group", msg)
	}
	if num <= 0 {
		return 0, 0, protoError("%s: illegal tag %d (wire type %d)", msg, num, wt)
	}
	return num, wt, nil
}

func wrongWireType(wt int, field string) error {
	return protoError("wrong wire type %d for field %s", wt, field)
}

// bytesField reads a length-delimited field's contents.
func (r *wireReader) bytesField(wt int, field string) ([]byte, error) {
	if wt != wireBytes {
		return nil, wrongWireType(wt, field)
	}
	n, err := r.varint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(r.b)-r.i) {
		if int64(n) < 0 {
			return nil, errBadLength
		}
		return nil, errTruncated
	}
	b := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return b, nil
}

// skip skips a field of an unknown number whose tag has just been read,
// groups included, as gogo-protobuf's generated skip does.
func (r *wireReader) skip(wt int) error {
	depth := 0
	for {
		switch wt {
		case wireVarint:
			if _, err := r.varint(); err != nil {
				return err
			}
		case wireFixed64, wireFixed32:
			n := 8
			if wt == wireFixed32 {
				n = 4
			}
			if n > len(r.b)-r.i {
				return errTruncated
			}
			r.i += n
		case wireBytes:
			n, err := r.varint()
			if err != nil {
				return err
			}
			if n > uint64(len(r.b)-r.i) {
				return errTruncated
			}
			r.i += int(n)
		case wireStartGroup:
			depth++
		case wireEndGroup:
			if depth == 0 {
				return protoError("unexpected end of group")
			}
			depth--
		default:
			return protoError("illegal wire type %d", wt)
		}
		if depth == 0 {
			return nil
		}
		if r.done() {
			return errTruncated
		}
		tag, err := r.varint()
		if err != nil {
			return err
		}
		wt = int(tag & 7)
	}
}
