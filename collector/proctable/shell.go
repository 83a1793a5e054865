package proctable

import "strings"

// shells are the programs whose descendants get a shell id.
var shells = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true,
	"ash": true, "fish": true, "tcsh": true, "csh": true,
	"mksh": true, "rbash": true,
}

// busyboxShells are busybox's applets that are shells.
var busyboxShells = map[string]bool{"sh": true, "ash": true, "hush": true}

// isShell tells whether a program is a shell: its comm (the name it was run
// by), its executable's name, or busybox run as sh or ash (by its name, or
// as "busybox sh").
func isShell(comm, exe string, args []string) bool {
	exeBase := base(exe)
	if comm == "busybox" || exeBase == "busybox" {
		if busyboxShells[comm] {
			return true
		}
		if len(args) > 0 && busyboxShells[strings.TrimPrefix(base(args[0]), "-")] {
			return true
		}
		return len(args) > 1 && busyboxShells[args[1]]
	}
	return shells[comm] || shells[exeBase]
}

func base(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// setShell works out a process's shell on exec. Its inherited shell (from
// the fork, else from its parent now) stays; without one, a shell is its
// own shell (args is its argv: busybox is a shell by it). The chain does
// not cross pid namespaces: a container's
// processes do not get the shell that started the container runtime.
func (t *Table) setShell(e, parent *entry, forked bool, args []string) {
	if !forked && parent != nil {
		e.shellID, e.shellDist = 0, 0
		e.flags &^= flagShellSelf
		inheritShell(e, parent)
	}
	if e.has(flagShellSelf) {
		e.shellID, e.shellDist = 0, 0
		e.flags &^= flagShellSelf
	}
	if e.shellID == 0 && isShell(e.comm, e.exe, args) {
		e.shellID, e.shellDist = e.tgid, 0
		e.flags |= flagShellSelf
	}
}

// inheritShell gives a child its parent's shell, one generation further.
func inheritShell(child, parent *entry) {
	if parent.shellID == 0 || parent.pidNS != child.pidNS {
		return
	}
	child.shellID, child.shellDist = parent.shellID, parent.shellDist+1
}
