package pipeline

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	proc := t.TempDir()
	writePasswd := func(pid, content string) {
		t.Helper()
		dir := filepath.Join(proc, pid, "root", "etc")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writePasswd("1", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1000:1000::/:/bin/sh\n")
	now := time.Unix(1000, 0)
	u := newUsers(proc)
	u.now = func() time.Time { return now }

	steps := []struct {
		name      string
		pid       uint32
		container string
		uid       uint32
		alt       uint32 // the container's init
		advance   time.Duration
		before    func()
		want      string
	}{
		{name: "host users come from pid 1's root", pid: 4242, uid: 1000, want: "alice"},
		{name: "unknown uid", pid: 4242, uid: 7, want: ""},
		{name: "container whose process is gone", pid: 50, container: "c1", uid: 0, want: ""},
		{name: "not read again at once", pid: 51, container: "c1", uid: 0, before: func() { writePasswd("51", "daemon:x:0:0::/:/bin/sh\n") }, want: ""},
		{name: "read again after retryMissing", pid: 51, container: "c1", uid: 0, advance: retryMissing, want: "daemon"},
		{name: "then cached by container", pid: 99, container: "c1", uid: 0, want: "daemon"},
		{name: "another container is read on its own", pid: 60, container: "c2", uid: 0, before: func() { writePasswd("60", "admin:x:0:0::/:/bin/sh\n") }, want: "admin"},
		{name: "a gone process's container: its init's root", pid: 70, alt: 7, container: "c3", uid: 0, before: func() { writePasswd("7", "toor:x:0:0::/:/bin/sh\n") }, want: "toor"},
		{name: "the process's own root first", pid: 80, alt: 8, container: "c4", uid: 0, before: func() { writePasswd("80", "own:x:0:0::/:/bin/sh\n"); writePasswd("8", "init:x:0:0::/:/bin/sh\n") }, want: "own"},
		{name: "host processes never use alt", pid: 4243, alt: 7, uid: 0, want: "root"},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		now = now.Add(s.advance)
		if got := u.Name(s.pid, s.container, s.uid, func() uint32 { return s.alt }); got != s.want {
			t.Errorf("%s: Name(%d, %q, %d) = %q, want %q", s.name, s.pid, s.container, s.uid, got, s.want)
		}
	}
}

func TestUsersHostFallback(t *testing.T) {
	tests := []struct {
		name  string
		roots map[string]string // pid dir → passwd
		want  string
	}{
		{name: "pid 1 unreadable: the process's own root", roots: map[string]string{"4242": "carol:x:5:5::/:/bin/sh\n", "self": "dave:x:5:5::/:/bin/sh\n"}, want: "carol"},
		{name: "then the collector's own root", roots: map[string]string{"self": "dave:x:5:5::/:/bin/sh\n"}, want: "dave"},
		{name: "pid 1 first when readable", roots: map[string]string{"1": "erin:x:5:5::/:/bin/sh\n", "4242": "carol:x:5:5::/:/bin/sh\n"}, want: "erin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc := t.TempDir()
			for pid, content := range tt.roots {
				dir := filepath.Join(proc, pid, "root", "etc")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := newUsers(proc).Name(4242, "", 5, func() uint32 { return 0 }); got != tt.want {
				t.Errorf("Name = %q, want %q", got, tt.want)
			}
		})
	}
}
