package proctable

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// procInfo is what /proc tells of one process.
type procInfo struct {
	pid, ppid          uint32
	startTicks         uint64 // clock ticks since boot
	comm, exe, cwd     string
	tty                string
	args               []string
	uid, gid, loginUID uint32
	pidNS, nsPID       uint32
	cgroupID           uint64
	kthread            bool
}

// pfKthread is PF_KTHREAD in /proc/<pid>/stat's flags.
const pfKthread = 0x00200000

// readProc reads /proc/<pid>. Only stat is needed (it gives the identity and
// the parent); what else cannot be read stays empty.
func readProc(procRoot, cgroupRoot string, pid uint32) (procInfo, error) {
	dir := filepath.Join(procRoot, strconv.FormatUint(uint64(pid), 10))
	p := procInfo{pid: pid, loginUID: ^uint32(0)}
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return p, fmt.Errorf("read stat: %w", err)
	}
	if err := parseStat(b, &p); err != nil {
		return p, fmt.Errorf("parse %s/stat: %w", dir, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
		parseStatus(b, &p)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
		p.args = splitCmdline(b)
	}
	p.exe, _ = os.Readlink(filepath.Join(dir, "exe"))
	p.cwd, _ = os.Readlink(filepath.Join(dir, "cwd"))
	p.pidNS, _ = readNSInode(filepath.Join(dir, "ns", "pid"))
	if b, err := os.ReadFile(filepath.Join(dir, "loginuid")); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32); err == nil {
			p.loginUID = uint32(n)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cgroup")); err == nil {
		if path, ok := unifiedPath(b); ok {
			p.cgroupID = inodeOf(filepath.Join(cgroupRoot, path))
		}
	}
	return p, nil
}

// parseStat reads comm, ppid, tty, flags and start time from
// /proc/<pid>/stat. comm is in parentheses and may hold anything, so the
// fields are counted from the last ')'.
func parseStat(b []byte, p *procInfo) error {
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return fmt.Errorf("no comm in %q", b)
	}
	p.comm = string(b[open+1 : closing])
	f := strings.Fields(string(b[closing+1:]))
	// f[0] is field 3 (state): field n is f[n-3].
	const ppid, ttyNr, flags, start = 4 - 3, 7 - 3, 9 - 3, 22 - 3
	if len(f) <= start {
		return fmt.Errorf("%d fields, want more than %d", len(f)+2, start+2)
	}
	pp, err := strconv.ParseUint(f[ppid], 10, 32)
	if err != nil {
		return fmt.Errorf("parse ppid: %w", err)
	}
	st, err := strconv.ParseUint(f[start], 10, 64)
	if err != nil {
		return fmt.Errorf("parse start time: %w", err)
	}
	p.ppid, p.startTicks = uint32(pp), st
	if fl, err := strconv.ParseUint(f[flags], 10, 64); err == nil {
		p.kthread = fl&pfKthread != 0
	}
	if tty, err := strconv.ParseInt(f[ttyNr], 10, 64); err == nil {
		p.tty = ttyName(uint32(tty))
	}
	return nil
}

// parseStatus reads the real uid and gid and the innermost NSpid.
func parseStatus(b []byte, p *procInfo) {
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		switch name {
		case "Uid":
			p.uid = parseU32(f[0])
		case "Gid":
			p.gid = parseU32(f[0])
		case "NSpid":
			p.nsPID = parseU32(f[len(f)-1])
		}
	}
}

func parseU32(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

// splitCmdline splits NUL-separated argv.
func splitCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

// unifiedPath is the cgroup v2 path ("0::/path") in /proc/<pid>/cgroup.
func unifiedPath(b []byte) (string, bool) {
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			return path, true
		}
	}
	return "", false
}

// inodeOf is the inode of a path, 0 when it cannot be read: a cgroup v2 id.
func inodeOf(path string) uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0
	}
	return st.Ino
}

// ttyName names a terminal from its device number (stat's tty_nr), as the
// kernel side does: "pts/N", "ttyN", "ttySN", "console"; "" for none.
func ttyName(dev uint32) string {
	if dev == 0 {
		return ""
	}
	major := (dev >> 8) & 0xfff
	minor := (dev & 0xff) | ((dev >> 12) & 0xfff00)
	switch {
	case major >= 136 && major <= 143:
		return "pts/" + strconv.FormatUint(uint64((major-136)<<8|minor), 10)
	case major == 4 && minor < 64:
		return "tty" + strconv.FormatUint(uint64(minor), 10)
	case major == 4:
		return "ttyS" + strconv.FormatUint(uint64(minor-64), 10)
	case major == 5 && minor == 1:
		return "console"
	}
	return ""
}
