package container

import "golang.org/x/sys/unix"

// Where cgroup v2 is mounted: beside the v1 controllers in hybrid mode, or
// as the whole of /sys/fs/cgroup in unified mode.
const (
	hybridRoot  = "/sys/fs/cgroup/unified"
	unifiedRoot = "/sys/fs/cgroup"
)

// DefaultRoot is where this host mounts cgroup v2: /sys/fs/cgroup/unified
// when that is a cgroup2 mount, else /sys/fs/cgroup when that is, else
// /sys/fs/cgroup/unified (nothing will resolve).
func DefaultRoot() string {
	for _, dir := range []string{hybridRoot, unifiedRoot} {
		if IsCgroup2(dir) {
			return dir
		}
	}
	return hybridRoot
}

// IsCgroup2 tells whether dir is the root of a cgroup2 mount.
func IsCgroup2(dir string) bool {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return false
	}
	return fs.Type == unix.CGROUP2_SUPER_MAGIC
}
