package pipeline

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// users resolves uids to names from the passwd file of the process's own
// root — the container's /etc/passwd for a container process — read through
// /proc/<pid>/root and cached per container ("" is the host).
//
// A root whose passwd could not be read (the process was gone by the time
// its exec was handled, or the image has none) is tried again only after
// retryMissing: in an exec storm of short-lived processes each exec would
// otherwise cost a failed open.
type users struct {
	procRoot string
	byRoot   map[string]map[uint32]string
	missing  map[string]time.Time // when the root was last tried and not found
	now      func() time.Time
}

// maxRoots bounds the cache; past it, it starts afresh.
const maxRoots = 4096

// retryMissing is the least time between two reads of a root's passwd that
// was not found.
const retryMissing = 100 * time.Millisecond

func newUsers(procRoot string) *users {
	return &users{procRoot: procRoot, byRoot: map[string]map[uint32]string{}, missing: map[string]time.Time{}, now: time.Now}
}

// Name returns the user name of uid for a process, or "" when unknown.
// alt, asked only when the container's passwd is not cached yet, is
// another process of the same container (its init), or 0.
func (u *users) Name(pid uint32, containerID string, uid uint32, alt func() uint32) string {
	names, ok := u.byRoot[containerID]
	if !ok {
		if last, tried := u.missing[containerID]; tried && u.now().Sub(last) < retryMissing {
			return ""
		}
		// The host's passwd is that of pid 1's root; where pid 1's root
		// cannot be read (a sandbox, or no CAP_SYS_PTRACE over it), that of
		// the process itself, then the collector's own. A container's is
		// that of the process, or of alt (its container's init) when the
		// process is already gone.
		roots := []string{strconv.FormatUint(uint64(pid), 10)}
		if containerID == "" {
			roots = []string{"1", roots[0], "self"}
		} else if a := alt(); a != 0 && a != pid {
			roots = append(roots, strconv.FormatUint(uint64(a), 10))
		}
		var found bool
		for _, root := range roots {
			if names, found = readPasswd(filepath.Join(u.procRoot, root, "root", "etc", "passwd")); found {
				break
			}
		}
		if !found {
			if len(u.missing) >= maxRoots {
				clear(u.missing)
			}
			u.missing[containerID] = u.now()
			return ""
		}
		if len(u.byRoot) >= maxRoots {
			u.byRoot = map[string]map[uint32]string{}
		}
		u.byRoot[containerID] = names
		delete(u.missing, containerID)
	}
	return names[uid]
}

func readPasswd(path string) (map[uint32]string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	names := map[uint32]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ":")
		if len(parts) < 3 {
			continue
		}
		if uid, err := strconv.ParseUint(parts[2], 10, 32); err == nil {
			if _, dup := names[uint32(uid)]; !dup {
				names[uint32(uid)] = parts[0]
			}
		}
	}
	return names, true
}
