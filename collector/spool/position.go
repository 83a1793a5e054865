package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// File names in the spool directory besides the segments.
const (
	positionFile = "POSITION"
	positionTemp = "POSITION.tmp"
	lockFile     = "LOCK"
)

// positionMagic starts the position file; the last byte is the version.
var positionMagic = [8]byte{'S', 'P', 'O', 'O', 'L', 'P', 'O', 1}

// positionSize is the size of the position file: magic, segment sequence
// number, offset in the segment (both uint64 little-endian), CRC-32C of
// the 24 bytes before it.
const positionSize = 8 + 8 + 8 + 4

func encodePosition(seq uint64, off int64) []byte {
	b := make([]byte, 0, positionSize)
	b = append(b, positionMagic[:]...)
	b = binary.LittleEndian.AppendUint64(b, seq)
	b = binary.LittleEndian.AppendUint64(b, uint64(off))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodePosition decodes a position file; ok is false if it is not one.
func decodePosition(b []byte) (seq uint64, off int64, ok bool) {
	if len(b) != positionSize || !bytes.Equal(b[:8], positionMagic[:]) ||
		crc32.Checksum(b[:24], castagnoli) != binary.LittleEndian.Uint32(b[24:]) {
		return 0, 0, false
	}
	seq = binary.LittleEndian.Uint64(b[8:16])
	u := binary.LittleEndian.Uint64(b[16:24])
	if u > 1<<62 {
		return 0, 0, false
	}
	return seq, int64(u), true
}

// readPosition reads the ack position. A missing or unreadable position
// file yields ok false: the spool then replays from its oldest entry.
func readPosition(dir string) (seq uint64, off int64, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, positionFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("read position: %w", err)
	}
	seq, off, ok = decodePosition(b)
	return seq, off, ok, nil
}

// writePosition replaces the position file atomically (write a temporary
// file, rename it over) and returns the bytes written. It does not fsync:
// syncPosition does, per SyncInterval.
func writePosition(dir string, seq uint64, off int64) (int, error) {
	b := encodePosition(seq, off)
	tmp := filepath.Join(dir, positionTemp)
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return 0, fmt.Errorf("write position: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, positionFile)); err != nil {
		return 0, fmt.Errorf("write position: %w", err)
	}
	return len(b), nil
}

// syncPosition fsyncs the position file, then the directory (making the
// renames and the new segment files durable).
func syncPosition(dir string) error {
	f, err := os.Open(filepath.Join(dir, positionFile))
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sync position: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// ErrLocked is returned by Open when another spool (in this process or
// another) has the directory open.
var ErrLocked = errors.New("spool directory in use")

// lockDir takes an exclusive flock on the directory's LOCK file and writes
// the process id into it. The lock goes with the file's close (or the
// process's death).
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock dir: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			holder := ""
			if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
				holder = " by pid " + strings.TrimSpace(string(b))
			}
			return nil, fmt.Errorf("lock dir: %s held%s: %w", path, holder, ErrLocked)
		}
		return nil, fmt.Errorf("lock dir: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
