package pipeline

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// users resolves uids to names from the passwd file of the process's own
// root — the container's /etc/passwd for a container process — read through
// /proc/<pid>/root and cached per container ("" is the host).
type users struct {
	procRoot string
	byRoot   map[string]map[uint32]string
}

// maxRoots bounds the cache; past it, it starts afresh.
const maxRoots = 4096

func newUsers(procRoot string) *users {
	return &users{procRoot: procRoot, byRoot: map[string]map[uint32]string{}}
}

// Name returns the user name of uid for a process, or "" when unknown.
func (u *users) Name(pid uint32, containerID string, uid uint32) string {
	names, ok := u.byRoot[containerID]
	if !ok {
		if containerID == "" {
			pid = 1
		}
		var found bool
		names, found = readPasswd(filepath.Join(u.procRoot, strconv.FormatUint(uint64(pid), 10), "root", "etc", "passwd"))
		if !found {
			return "" // the process is gone, or has no passwd: try again next time
		}
		if len(u.byRoot) >= maxRoots {
			u.byRoot = map[string]map[uint32]string{}
		}
		u.byRoot[containerID] = names
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
