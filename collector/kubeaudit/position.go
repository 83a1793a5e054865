package kubeaudit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// positionFile is the tailer's state file in Config.StateDir.
const positionFile = "audit-log.position"

// tailLen is how many bytes before the position are kept to recognise the
// file: after a copytruncate the file may have grown past the position
// again, but those bytes are not the same.
const tailLen = 64

// fileID identifies a file across renames.
type fileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// position is where the tailer is: in which file (by device and inode, so
// a rename does not lose it), at which offset (just after the last line
// handed to the sink), and the bytes just before it.
type position struct {
	File     fileID `json:"file"`
	Offset   int64  `json:"offset"`
	Tail     []byte `json:"tail,omitempty"`
	Skipping bool   `json:"skipping,omitempty"` // inside a line over the size bound
}

// loadPosition reads the state file; ok is false when there is none.
func loadPosition(dir string) (pos position, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, positionFile))
	if errors.Is(err, fs.ErrNotExist) {
		return position{}, false, nil
	}
	if err != nil {
		return position{}, false, fmt.Errorf("read audit log position: %w", err)
	}
	if err := json.Unmarshal(b, &pos); err != nil {
		return position{}, false, fmt.Errorf("decode audit log position %s: %w", filepath.Join(dir, positionFile), err)
	}
	if pos.Offset < 0 || len(pos.Tail) > tailLen || int64(len(pos.Tail)) > pos.Offset {
		return position{}, false, fmt.Errorf("decode audit log position %s: offset %d with %d tail bytes", filepath.Join(dir, positionFile), pos.Offset, len(pos.Tail))
	}
	return pos, true, nil
}

// savePosition writes the state file atomically (temporary file, fsync,
// rename).
func savePosition(dir string, pos position) error {
	b, err := json.Marshal(pos)
	if err != nil {
		return fmt.Errorf("encode audit log position: %w", err)
	}
	tmp, err := os.CreateTemp(dir, positionFile+".*")
	if err != nil {
		return fmt.Errorf("save audit log position: %w", err)
	}
	_, werr := tmp.Write(b)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), filepath.Join(dir, positionFile))
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save audit log position: %w", werr)
	}
	return nil
}

// idOf is the identity of a file's stat.
func idOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, true
}

// findFile opens the regular file of dir whose identity is id (a rotated
// log under its new name); nil when there is none.
func findFile(dir string, id fileID) *os.File {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if got, ok := idOf(fi); !ok || got != id {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil
		}
		if fi, err := f.Stat(); err == nil {
			if got, ok := idOf(fi); ok && got == id {
				return f
			}
		}
		f.Close()
		return nil
	}
	return nil
}
