// Package proctable keeps the processes of the node: what each runs, its
// ancestry, its shell and its exec session, from the kernel's exec, fork
// and exit events and, at start, from /proc. Records and connections are
// attributed from it.
package proctable

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/collector/container"
)

// Config sets up a Table.
type Config struct {
	// Node is the node name, the first part of every exec_id.
	Node string
	// MaxProcesses bounds the table (default 65536): past it the oldest
	// exited process goes first, then the oldest.
	MaxProcesses int
	// ProcRoot is where proc is mounted (default "/proc"; tests point it
	// at a fake tree).
	ProcRoot string
	// HostPidNS is the inode of the host's pid namespace (default: that of
	// ProcRoot/self/ns/pid).
	HostPidNS uint32
	// CgroupRoot is the cgroup2 mount, for Bootstrap's cgroup ids
	// (default container.DefaultRoot()).
	CgroupRoot string
	// Containers, when set, tells which cgroups are containers' (a
	// *container.Resolver does): a process in a container's cgroup is in
	// a container even in the host's pid namespace (hostPID pods).
	Containers ContainerLookup
	// ExitGrace is how long an exited process stays for attribution
	// before it is dropped (default 30s; negative: until evicted). It is
	// measured in event time (boot ns).
	ExitGrace time.Duration
}

// ContainerLookup tells the container a cgroup v2 id belongs to.
type ContainerLookup interface {
	Container(cgroupID uint64) (container.Info, bool)
}

// Defaults.
const (
	DefaultMaxProcesses = 65536
	DefaultProcRoot     = "/proc"
	DefaultExitGrace    = 30 * time.Second
)

func (c *Config) setDefaults() error {
	if c.MaxProcesses <= 0 {
		c.MaxProcesses = DefaultMaxProcesses
	}
	if c.ProcRoot == "" {
		c.ProcRoot = DefaultProcRoot
	}
	if c.CgroupRoot == "" {
		c.CgroupRoot = container.DefaultRoot()
	}
	if c.ExitGrace == 0 {
		c.ExitGrace = DefaultExitGrace
	}
	if c.HostPidNS == 0 {
		ns, err := readNSInode(filepath.Join(c.ProcRoot, "self", "ns", "pid"))
		if err != nil {
			return fmt.Errorf("read host pid namespace: %w", err)
		}
		c.HostPidNS = ns
	}
	return nil
}

// readNSInode reads a namespace link ("pid:[4026531836]") as its inode.
func readNSInode(link string) (uint32, error) {
	s, err := os.Readlink(link)
	if err != nil {
		return 0, err
	}
	i := strings.IndexByte(s, '[')
	if i < 0 || !strings.HasSuffix(s, "]") {
		return 0, fmt.Errorf("parse namespace link %q", s)
	}
	n, err := strconv.ParseUint(s[i+1:len(s)-1], 10, 32)
	if err != nil {
		return 0, fmt.Errorf("parse namespace link %q: %w", s, err)
	}
	return uint32(n), nil
}
