package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// frameHeader is the size of a frame's header: the payload length and the
// CRC-32C of the length and the payload, both little-endian uint32.
const frameHeader = 8

// segSuffix ends segment file names; the name before it is the segment's
// sequence number, zero-padded to segDigits digits.
const (
	segSuffix = ".seg"
	segDigits = 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// errShortFrame means the buffer ends inside a frame.
	errShortFrame = errors.New("short frame")
	// errBadFrame means a frame fails its checksum or its length cannot be.
	errBadFrame = errors.New("bad frame")
)

// frameCRC is the checksum of a frame: over the 4 length bytes, then the
// payload. Covering the length makes an all-zero region (what a file
// system may leave after a crash) invalid rather than empty entries.
func frameCRC(lenBytes, payload []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, lenBytes), castagnoli, payload)
}

// appendFrame appends payload's frame to dst.
func appendFrame(dst, payload []byte) []byte {
	n := len(dst)
	// The header is built in dst: a local array would escape (crc32
	// calls through a function value) and cost an allocation per frame.
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, frameCRC(dst[n:n+4], payload))
	return append(dst, payload...)
}

// decodeFrame decodes the frame at the start of b, which is no longer than
// limit bytes. It returns the payload (aliasing b) and the frame's size.
// With errShortFrame, n is the number of bytes needed to decode the frame.
func decodeFrame(b []byte, limit int64) (payload []byte, n int, err error) {
	if len(b) < frameHeader {
		if limit < frameHeader {
			return nil, 0, errBadFrame
		}
		return nil, frameHeader, errShortFrame
	}
	size := int64(binary.LittleEndian.Uint32(b[:4])) + frameHeader
	if size > limit {
		return nil, 0, errBadFrame
	}
	if int64(len(b)) < size {
		return nil, int(size), errShortFrame
	}
	payload = b[frameHeader:size:size]
	if frameCRC(b[:4], payload) != binary.LittleEndian.Uint32(b[4:frameHeader]) {
		return nil, 0, errBadFrame
	}
	return payload, int(size), nil
}

func segName(seq uint64) string {
	return fmt.Sprintf("%0*d%s", segDigits, seq, segSuffix)
}

func segPath(dir string, seq uint64) string {
	return filepath.Join(dir, segName(seq))
}

// parseSegName returns the sequence number of a segment file name.
func parseSegName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segSuffix)
	if !ok || len(digits) != segDigits {
		return 0, false
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	return seq, err == nil
}

// scan is what scanSegment found in a segment file.
type scan struct {
	size   int64 // bytes of the file
	end    int64 // end of the last good frame: the rest is corrupt
	frames int64 // good frames
	// at, idx: the first frame boundary at or after the offset asked for
	// (end if none), and the number of frames before it.
	at, idx int64
}

// scanSegment reads the frames of f from the start, checking each one,
// until the end of the file or the first frame that is torn or corrupt.
// at is an offset (the ack position) to align to a frame boundary.
func scanSegment(f *os.File, at int64) (scan, error) {
	fi, err := f.Stat()
	if err != nil {
		return scan{}, fmt.Errorf("scan segment: %w", err)
	}
	sc := scan{size: fi.Size(), at: -1}
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, sc.size), 256<<10)
	var buf []byte
	for {
		if sc.at < 0 && sc.end >= at {
			sc.at, sc.idx = sc.end, sc.frames
		}
		if sc.end == sc.size {
			break
		}
		if sc.size-sc.end < frameHeader {
			break // torn header
		}
		buf = growLen(buf, frameHeader)
		if _, err := io.ReadFull(r, buf); err != nil {
			return sc, fmt.Errorf("scan segment: %w", err)
		}
		n := int64(binary.LittleEndian.Uint32(buf[:4])) + frameHeader
		if n > sc.size-sc.end {
			break // torn payload, or a corrupt length
		}
		buf = growLen(buf, int(n))
		if _, err := io.ReadFull(r, buf[frameHeader:]); err != nil {
			return sc, fmt.Errorf("scan segment: %w", err)
		}
		if _, _, err := decodeFrame(buf, n); err != nil {
			break
		}
		sc.end += n
		sc.frames++
	}
	if sc.at < 0 {
		sc.at, sc.idx = sc.end, sc.frames
	}
	return sc, nil
}

// growLen returns b resized to n bytes, keeping its content.
func growLen(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	nb := make([]byte, n)
	copy(nb, b)
	return nb
}
