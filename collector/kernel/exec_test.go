package kernel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/activityaudit/activityaudit/collector/event"
)

// procStartTicks is /proc/<pid>/stat's starttime: clock ticks (USER_HZ,
// 100 on Linux) since boot, derived from the same start_boottime the
// kernel side reports in ns.
func procStartTicks(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the ")" that ends comm; starttime is field 22.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	v, err := strconv.ParseUint(f[22-3], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const nsPerTick = 1e9 / 100

func resolved(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loginUID(t *testing.T) uint32 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/loginuid")
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(v)
}

func TestExec(t *testing.T) {
	s := open(t, Options{ExcludeTGID: noExclude})
	self := os.Getpid()
	selfTicks := procStartTicks(t, self)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cwd := resolved(t, wd)
	truePath := resolved(t, "/bin/true")
	echoPath := resolved(t, "/bin/echo")
	shPath := resolved(t, "/bin/sh")

	many := []string{"/bin/echo"}
	for i := range 199 {
		many = append(many, fmt.Sprintf("arg-%d", i))
	}
	long := []string{"/bin/echo"}
	for i := range 100 {
		long = append(long, fmt.Sprintf("%03d-%s", i, strings.Repeat("x", 60)))
	}
	quoted := []string{"/bin/echo", "with space", `"double"`, `'single'`, "", `back\slash`, "tab\there", "new\nline", "ünïcode", "$HOME"}

	tests := []struct {
		name string
		// cmd builds the command; dir is a fresh temp dir.
		cmd   func(dir string) *exec.Cmd
		check func(t *testing.T, pid uint32, dir string, seen []event.Event) bool
	}{
		{
			name: "shell and child",
			cmd:  func(string) *exec.Cmd { return exec.Command("/bin/sh", "-c", "true; /bin/echo a") },
			check: func(t *testing.T, pid uint32, _ string, seen []event.Event) bool {
				sh := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == pid && e.Exe == shPath })
				echo := find(seen, execOf, func(e *event.Exec) bool { return e.Exe == echoPath && (e.TGID == pid || e.PPID == pid) })
				if sh == nil || echo == nil {
					return false
				}
				if sh.PPID != uint32(self) || sh.ParentStartTime/nsPerTick != selfTicks {
					t.Errorf("sh parent = %d started %d, want %d started at tick %d", sh.PPID, sh.ParentStartTime, self, selfTicks)
				}
				if want := []string{"/bin/sh", "-c", "true; /bin/echo a"}; !slices.Equal(sh.Args, want) {
					t.Errorf("sh args = %q, want %q", sh.Args, want)
				}
				// dash execs the last command of -c in place; others fork it.
				if echo.TGID == pid {
					if echo.PPID != sh.PPID || echo.StartTime != sh.StartTime {
						t.Errorf("echo in place: ppid %d start %d, want sh's %d %d", echo.PPID, echo.StartTime, sh.PPID, sh.StartTime)
					}
				} else if echo.ParentStartTime != sh.StartTime {
					t.Errorf("echo parent start = %d, want sh's %d", echo.ParentStartTime, sh.StartTime)
				}
				if !slices.Equal(echo.Args, []string{"/bin/echo", "a"}) || echo.Comm != "echo" {
					t.Errorf("echo args %q comm %q", echo.Args, echo.Comm)
				}
				return true
			},
		},
		{
			name: "exits at once",
			cmd: func(dir string) *exec.Cmd {
				c := exec.Command("/bin/true")
				c.Dir = dir
				return c
			},
			check: func(t *testing.T, pid uint32, dir string, seen []event.Event) bool {
				e := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == pid })
				if e == nil {
					return false
				}
				want := event.Exec{
					Time: e.Time, StartTime: e.StartTime, TGID: pid, PID: pid, PPID: uint32(self),
					ParentStartTime: e.ParentStartTime, UID: 0, GID: 0, LoginUID: loginUID(t),
					TTY: "", Comm: "true", Exe: truePath, Args: []string{"/bin/true"}, Cwd: resolved(t, dir),
					CgroupID: e.CgroupID, PidNS: e.PidNS, NSPID: pid, ParentPidNS: e.PidNS,
				}
				if d := diffExec(*e, want); d != "" {
					t.Error(d)
				}
				if e.Time < e.StartTime || e.CgroupID == 0 || e.PidNS == 0 {
					t.Errorf("time %d start %d cgroup %d pidns %d", e.Time, e.StartTime, e.CgroupID, e.PidNS)
				}
				return true
			},
		},
		{
			name:  "200 arguments",
			cmd:   func(string) *exec.Cmd { return exec.Command(many[0], many[1:]...) },
			check: wantArgs(many, false),
		},
		{
			name:  "spaces and quotes",
			cmd:   func(string) *exec.Cmd { return exec.Command(quoted[0], quoted[1:]...) },
			check: wantArgs(quoted, false),
		},
		{
			name:  "over 4 KiB of arguments",
			cmd:   func(string) *exec.Cmd { return exec.Command(long[0], long[1:]...) },
			check: wantArgs(long, true),
		},
		{
			name: "through a symlink",
			cmd: func(dir string) *exec.Cmd {
				link := filepath.Join(dir, "link-to-true")
				if err := os.Symlink("/bin/true", link); err != nil {
					t.Fatal(err)
				}
				return exec.Command(link)
			},
			check: func(t *testing.T, pid uint32, dir string, seen []event.Event) bool {
				e := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == pid })
				if e == nil {
					return false
				}
				if e.Exe != truePath || e.Args[0] != filepath.Join(dir, "link-to-true") {
					t.Errorf("exe %q args %q, want exe %q", e.Exe, e.Args, truePath)
				}
				return true
			},
		},
		{
			name: "directory removed after",
			cmd: func(dir string) *exec.Cmd {
				d := filepath.Join(dir, "gone soon")
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
				return exec.Command("/bin/sh", "-c", `cd "$1" && exec /bin/sleep 0`, "sh", d)
			},
			check: func(t *testing.T, pid uint32, dir string, seen []event.Event) bool {
				d := filepath.Join(dir, "gone soon")
				if err := os.RemoveAll(d); err != nil {
					t.Fatal(err)
				}
				e := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == pid && e.Comm == "sleep" })
				if e == nil {
					return false
				}
				if e.Cwd != d {
					t.Errorf("cwd = %q, want %q", e.Cwd, d)
				}
				if sh := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == pid && e.Comm == "sh" }); sh == nil || sh.Cwd != cwd {
					t.Errorf("sh exec %+v, want cwd %q", sh, cwd)
				}
				return true
			},
		},
		{
			name: "credentials",
			cmd: func(string) *exec.Cmd {
				c := exec.Command("/bin/true")
				c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1234, Gid: 2345}}
				return c
			},
			check: func(t *testing.T, pid uint32, _ string, seen []event.Event) bool {
				e := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == pid })
				if e == nil {
					return false
				}
				if e.UID != 1234 || e.GID != 2345 {
					t.Errorf("uid %d gid %d, want 1234 2345", e.UID, e.GID)
				}
				return true
			},
		},
		{
			name: "no tty",
			cmd: func(string) *exec.Cmd {
				c := exec.Command("/bin/true")
				c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
				return c
			},
			check: func(t *testing.T, pid uint32, _ string, seen []event.Event) bool {
				e := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == pid })
				if e == nil {
					return false
				}
				if e.TTY != "" {
					t.Errorf("tty = %q, want none", e.TTY)
				}
				return true
			},
		},
		{
			name: "controlling tty",
			cmd: func(string) *exec.Cmd {
				pts := openPTY(t)
				c := exec.Command("/bin/true")
				c.Stdin = pts
				c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
				return c
			},
			check: func(t *testing.T, pid uint32, _ string, seen []event.Event) bool {
				e := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == pid })
				if e == nil {
					return false
				}
				if want := strings.TrimPrefix(ptyName, "/dev/"); e.TTY != want {
					t.Errorf("tty = %q, want %q", e.TTY, want)
				}
				return true
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pid := run(t, tt.cmd(dir))
			s.waitUntil("exec events of "+tt.name, func(seen []event.Event) bool { return tt.check(t, pid, dir, seen) })
			s.reset()
		})
	}
}

// wantArgs checks the exec of pid has argv want (a prefix of it, cut
// at 4 KiB, when truncated).
func wantArgs(want []string, truncated bool) func(t *testing.T, pid uint32, _ string, seen []event.Event) bool {
	return func(t *testing.T, pid uint32, _ string, seen []event.Event) bool {
		e := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == pid })
		if e == nil {
			return false
		}
		if e.ArgsTruncated != truncated {
			t.Errorf("truncated = %v, want %v", e.ArgsTruncated, truncated)
		}
		if !truncated {
			if !slices.Equal(e.Args, want) {
				t.Errorf("args = %q, want %q", e.Args, want)
			}
			return true
		}
		got, all := strings.Join(e.Args, "\x00"), strings.Join(want, "\x00")
		if !strings.HasPrefix(all, got) || len(got) < 4095 || len(got) > 4096 {
			t.Errorf("args (%d bytes joined) are not a 4 KiB prefix of the %d bytes", len(got), len(all))
		}
		return true
	}
}

var ptyName string

// openPTY opens a pseudo-terminal pair and returns its terminal end;
// ptyName is its path.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	ptyName = fmt.Sprintf("/dev/pts/%d", n)
	pts, err := os.OpenFile(ptyName, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	return pts
}

func diffExec(got, want event.Exec) string {
	g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want)
	if g == w {
		return ""
	}
	return fmt.Sprintf("exec\n got %s\nwant %s", g, w)
}

func TestForkExit(t *testing.T) {
	s := open(t, Options{ExcludeTGID: noExclude})
	tests := []struct {
		name     string
		script   string
		wantCode uint32 // wait(2) status of sh
	}{
		{"exit status", "/bin/true; exit 3", 3 << 8},
		{"killed", "/bin/true; kill -9 $$", uint32(syscall.SIGKILL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh := run(t, exec.Command("/bin/sh", "-c", tt.script))
			s.waitUntil("fork, exec and exits", func(seen []event.Event) bool {
				shFork := find(seen, forkOf, func(f *event.Fork) bool { return f.ChildTGID == sh })
				shExit := find(seen, exitOf, func(e *event.Exit) bool { return e.TGID == sh })
				child := find(seen, forkOf, func(f *event.Fork) bool { return f.ParentTGID == sh })
				if shFork == nil || shExit == nil || child == nil {
					return false
				}
				childExec := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == child.ChildTGID })
				childExit := find(seen, exitOf, func(e *event.Exit) bool { return e.TGID == child.ChildTGID })
				if childExec == nil || childExit == nil {
					return false
				}
				if shFork.ParentTGID != uint32(os.Getpid()) || shFork.ParentStartTime/nsPerTick != procStartTicks(t, os.Getpid()) {
					t.Errorf("sh fork %+v: parent is not the test process", *shFork)
				}
				if shExit.StartTime != shFork.ChildStartTime || shExit.ExitCode != tt.wantCode {
					t.Errorf("sh exit %+v, want start %d code %#x", *shExit, shFork.ChildStartTime, tt.wantCode)
				}
				if child.ParentStartTime != shFork.ChildStartTime {
					t.Errorf("child fork parent start %d, want sh's %d", child.ParentStartTime, shFork.ChildStartTime)
				}
				if childExec.StartTime != child.ChildStartTime || childExec.PPID != sh || childExec.ParentStartTime != shFork.ChildStartTime {
					t.Errorf("child exec %+v does not match its fork %+v", *childExec, *child)
				}
				if childExit.StartTime != child.ChildStartTime || childExit.ExitCode != 0 {
					t.Errorf("child exit %+v, want start %d code 0", *childExit, child.ChildStartTime)
				}
				if child.NSPID != child.ChildTGID || child.PidNS != childExec.PidNS || child.CgroupID != childExec.CgroupID {
					t.Errorf("child fork %+v: pid ns or cgroup differ from its exec %+v", *child, *childExec)
				}
				if child.Time < child.ChildStartTime || childExit.Time < childExec.Time {
					t.Errorf("times out of order: fork %+v exec %+v exit %+v", *child, *childExec, *childExit)
				}
				return true
			})
			s.reset()
		})
	}
}

func TestPidNamespace(t *testing.T) {
	hostNS := nsInode(t, "/proc/self/ns/pid")
	tests := []struct {
		name    string
		scan    bool
		wantID  string
		envLine string
	}{
		{"audit id scanned", true, "exec-0123456789abcdef", "KUBERNETES_EXEC_AUDIT_ID=exec-0123456789abcdef"},
		{"audit id not scanned", false, "", "KUBERNETES_EXEC_AUDIT_ID=exec-0123456789abcdef"},
		{"no audit id", true, "", "KUBERNETES_EXEC_AUDIT_IDENTITY=not-it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, Options{ExcludeTGID: noExclude, ExecAuditID: tt.scan})
			cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "/bin/true")
			cmd.Env = append(os.Environ(), tt.envLine)
			unshare := run(t, cmd)
			s.waitUntil("exec inside the new pid namespace", func(seen []event.Event) bool {
				u := find(seen, execOf, func(e *event.Exec) bool { return e.TGID == unshare })
				e := find(seen, execOf, func(e *event.Exec) bool { return e.PPID == unshare && e.Comm == "true" })
				if u == nil || e == nil {
					return false
				}
				if e.NSPID != 1 || e.PidNS == hostNS || e.PidNS == 0 || e.ParentPidNS != hostNS {
					t.Errorf("exec in new ns: nspid %d pidns %d parent pidns %d; host ns %d", e.NSPID, e.PidNS, e.ParentPidNS, hostNS)
				}
				if e.ExecAuditID != tt.wantID {
					t.Errorf("audit id = %q, want %q", e.ExecAuditID, tt.wantID)
				}
				if u.PidNS != hostNS || u.NSPID != unshare || u.ExecAuditID != "" {
					t.Errorf("unshare exec: pidns %d nspid %d audit id %q", u.PidNS, u.NSPID, u.ExecAuditID)
				}
				f := find(seen, forkOf, func(f *event.Fork) bool { return f.ChildTGID == e.TGID })
				if f == nil || f.NSPID != 1 || f.PidNS != e.PidNS {
					t.Errorf("fork into the new ns = %+v, want nspid 1 pidns %d", f, e.PidNS)
				}
				return true
			})
		})
	}
}

func nsInode(t *testing.T, path string) uint32 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return uint32(st.Ino)
}
