package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return st.Ino
}

func mkdirs(t *testing.T, root string, rels ...string) map[string]uint64 {
	t.Helper()
	ids := make(map[string]uint64)
	for _, rel := range rels {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		ids[rel] = inode(t, p)
	}
	return ids
}

// A fake clock for the rescan limit: the test moves it by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestResolverFakeTree(t *testing.T) {
	root := t.TempDir()
	ctr := "/kubepods/burstable/pod1b2c3d4e-0000-1111-2222-333344445555/" + hexA
	ids := mkdirs(t, root, "/system.slice/cron.service", ctr)

	tests := []struct {
		name   string
		id     uint64
		path   string
		ok     bool
		info   Info
		isCtr  bool
		before func(r *Resolver)
	}{
		{name: "root", id: inode(t, root), path: "/", ok: true},
		{name: "service", id: ids["/system.slice/cron.service"], path: "/system.slice/cron.service", ok: true},
		{name: "container", id: ids[ctr], path: ctr, ok: true, isCtr: true,
			info: Info{ID: hexA, Runtime: RuntimeContainerd, PodUID: "1b2c3d4e-0000-1111-2222-333344445555", CgroupPath: ctr}},
		{name: "unknown id", id: 1<<62 + 7, ok: false},
		{name: "zero id", id: 0, ok: false},
	}
	r := NewResolver(root)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := r.Path(tt.id)
			if p != tt.path || ok != tt.ok {
				t.Fatalf("Path(%d) = %q, %v; want %q, %v", tt.id, p, ok, tt.path, tt.ok)
			}
			info, isCtr := r.Container(tt.id)
			if info != tt.info || isCtr != tt.isCtr {
				t.Fatalf("Container(%d) = %+v, %v; want %+v, %v", tt.id, info, isCtr, tt.info, tt.isCtr)
			}
		})
	}
	if err := r.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
}

func TestResolverRescan(t *testing.T) {
	tests := []struct {
		name       string
		interval   time.Duration
		gap        time.Duration
		missBefore bool          // look the new cgroup's id up (as a miss) before it exists
		advance    time.Duration // between the last walk and the lookup
		found      bool
	}{
		{name: "no limit rescans on every miss", found: true},
		{name: "a new cgroup is found on its first miss", interval: time.Hour, gap: time.Millisecond, advance: time.Second, found: true},
		{name: "not within the walk gap of the last walk", interval: time.Hour, gap: time.Minute, advance: time.Second, found: false},
		{name: "after the walk gap", interval: time.Hour, gap: time.Minute, advance: 2 * time.Minute, found: true},
		{name: "an id a walk missed is not searched for within the interval", interval: time.Hour, gap: time.Millisecond, missBefore: true, advance: time.Minute, found: false},
		{name: "an id a walk missed is searched for after the interval", interval: time.Hour, gap: time.Millisecond, missBefore: true, advance: 2 * time.Hour, found: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			c := &clock{t: time.Unix(1000, 0)}
			r := NewResolver(root, WithRescanInterval(tt.interval), WithWalkGap(tt.gap))
			r.now = c.now
			if _, ok := r.Path(inode(t, root)); !ok {
				t.Fatal("root not found on the first walk")
			}
			ids := mkdirs(t, root, "/docker/"+hexB)
			id := ids["/docker/"+hexB]
			if tt.missBefore {
				// What a walk run before the cgroup existed would leave.
				r.missed[id] = c.t
			}
			c.t = c.t.Add(tt.advance)
			info, ok := r.Container(id)
			if ok != tt.found {
				t.Fatalf("Container after a new cgroup: found %v, want %v", ok, tt.found)
			}
			if ok && (info.ID != hexB || info.Runtime != RuntimeDocker) {
				t.Fatalf("Container = %+v", info)
			}
		})
	}
	t.Run("a missed id is remembered", func(t *testing.T) {
		root := t.TempDir()
		c := &clock{t: time.Unix(1000, 0)}
		r := NewResolver(root, WithRescanInterval(time.Hour), WithWalkGap(0))
		r.now = c.now
		for range 3 {
			if _, ok := r.Path(987654321); ok {
				t.Fatal("an id that is no cgroup was found")
			}
			c.t = c.t.Add(time.Second)
		}
		if r.gen != 1 {
			t.Errorf("%d walks for three lookups of one missing id, want 1", r.gen)
		}
	})
}

func TestResolverBound(t *testing.T) {
	t.Run("cache holds at most the bound and keeps the wanted cgroup", func(t *testing.T) {
		root := t.TempDir()
		var rels []string
		for i := 0; i < 10; i++ {
			rels = append(rels, fmt.Sprintf("/a/%d", i))
		}
		ids := mkdirs(t, root, rels...)
		r := NewResolver(root, WithRescanInterval(0), WithMaxEntries(4))
		if p, ok := r.Path(ids["/a/3"]); !ok || p != "/a/3" {
			t.Fatalf("Path(/a/3) = %q, %v", p, ok)
		}
		if n := r.Len(); n != 4 {
			t.Fatalf("Len() = %d, want 4", n)
		}
	})
	t.Run("removed cgroups go before ones still there", func(t *testing.T) {
		root := t.TempDir()
		ids := mkdirs(t, root, "/keep", "/gone1", "/gone2")
		r := NewResolver(root, WithRescanInterval(0), WithMaxEntries(4))
		if _, ok := r.Path(ids["/gone1"]); !ok {
			t.Fatal("gone1 not found")
		}
		// New before removing: a test file system reuses inode numbers,
		// cgroup2 does not (kernfs ids are 64-bit and allocated cyclically).
		for k, v := range mkdirs(t, root, "/new1", "/new2") {
			ids[k] = v
		}
		for _, d := range []string{"/gone1", "/gone2"} {
			if err := os.Remove(filepath.Join(root, d)); err != nil {
				t.Fatal(err)
			}
		}
		if p, ok := r.Path(ids["/new2"]); !ok || p != "/new2" {
			t.Fatalf("Path(/new2) = %q, %v", p, ok)
		}
		if n := r.Len(); n != 4 {
			t.Fatalf("Len() = %d, want 4 (root, keep, new1, new2)", n)
		}
		for _, d := range []string{"/keep", "/new1", "/new2"} {
			if p, ok := r.Path(ids[d]); !ok || p != d {
				t.Errorf("Path(%s) = %q, %v", d, p, ok)
			}
		}
	})
}

// TestResolverRealCgroup2 makes a cgroup in the host's cgroup2 tree and
// resolves its id, and this process's own cgroup.
func TestResolverRealCgroup2(t *testing.T) {
	root := DefaultRoot()
	if !IsCgroup2(root) {
		t.Fatalf("no cgroup2 mount at %s", root)
	}
	parent := fmt.Sprintf("aatest-resolver-%d", os.Getpid())
	dir := filepath.Join(root, parent, hexA)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("make cgroup: %v", err)
	}
	t.Cleanup(func() {
		_ = os.Remove(dir)
		_ = os.Remove(filepath.Join(root, parent))
	})
	r := NewResolver("")
	if r.Root() != root {
		t.Fatalf("Root() = %q, want %q", r.Root(), root)
	}
	want := Info{ID: hexA, Runtime: RuntimeRunc, CgroupPath: "/" + parent + "/" + hexA}
	if got, ok := r.Container(inode(t, dir)); !ok || got != want {
		t.Fatalf("Container = %+v, %v; want %+v", got, ok, want)
	}

	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var own string
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			own = rest
		}
	}
	if own == "" {
		t.Fatalf("no cgroup v2 line in /proc/self/cgroup:\n%s", b)
	}
	if p, ok := r.Path(inode(t, filepath.Join(root, own))); !ok || p != own {
		t.Fatalf("Path(own cgroup) = %q, %v; want %q", p, ok, own)
	}
}
