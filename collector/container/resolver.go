package container

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Resolver maps cgroup v2 ids (what the kernel side reports: the inode
// number of the cgroup's directory in the cgroup2 file system) to cgroup
// paths and containers. It walks the cgroup2 tree and caches what it found.
// A miss rescans at once — a container's first exec comes milliseconds
// after its runtime made the cgroup — unless a walk ran less than the
// walk gap ago (so a storm of misses costs at most one walk per gap), or a
// walk already missed that id less than the rescan interval ago (a cgroup
// gone before it was seen is not searched for on each of its events).
// The cache is bounded:
// past the bound, cgroups that the last walk no longer found go first.
// cgroup2 ids are not reused (kernfs allocates them cyclically in 64 bits),
// so a cached id never comes to mean another cgroup. Safe for concurrent
// use; a walk holds the lock.
type Resolver struct {
	root      string
	interval  time.Duration
	gap       time.Duration
	max       int
	now       func() time.Time
	mu        sync.Mutex
	byID      map[uint64]*cached
	missed    map[uint64]time.Time // ids a walk did not find, and when
	gen       uint64               // walks done
	lastWalk  time.Time
	walkError error
}

type cached struct {
	path string
	gen  uint64 // the walk that last saw it
	info Info
	isCt bool
	done bool // info worked out
}

// Option sets up a Resolver.
type Option func(*Resolver)

// Defaults.
const (
	DefaultRescanInterval = time.Second
	DefaultWalkGap        = 10 * time.Millisecond
	DefaultMaxEntries     = 65536
)

// WithRescanInterval sets how long an id that a walk did not find is not
// searched for again (0: on every miss); it also caps the walk gap.
func WithRescanInterval(d time.Duration) Option {
	return func(r *Resolver) { r.interval = d }
}

// WithWalkGap sets the least time between two walks of the tree.
func WithWalkGap(d time.Duration) Option {
	return func(r *Resolver) { r.gap = d }
}

// WithMaxEntries bounds the cache.
func WithMaxEntries(n int) Option {
	return func(r *Resolver) {
		if n > 0 {
			r.max = n
		}
	}
}

// NewResolver makes a resolver for the cgroup2 tree at root ("" for
// DefaultRoot()). It walks nothing until asked.
func NewResolver(root string, opts ...Option) *Resolver {
	if root == "" {
		root = DefaultRoot()
	}
	r := &Resolver{
		root:     filepath.Clean(root),
		interval: DefaultRescanInterval,
		gap:      DefaultWalkGap,
		max:      DefaultMaxEntries,
		now:      time.Now,
		byID:     make(map[uint64]*cached),
		missed:   make(map[uint64]time.Time),
	}
	for _, o := range opts {
		o(r)
	}
	r.gap = min(r.gap, r.interval)
	return r
}

// Root is the cgroup2 mount the resolver walks.
func (r *Resolver) Root() string { return r.root }

// Path is the cgroup path ("/kubepods/..."; "/" for the root) of a cgroup
// v2 id.
func (r *Resolver) Path(cgroupID uint64) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.lookup(cgroupID)
	if c == nil {
		return "", false
	}
	return c.path, true
}

// Container is the container a cgroup v2 id belongs to, when its path
// names one.
func (r *Resolver) Container(cgroupID uint64) (Info, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.lookup(cgroupID)
	if c == nil {
		return Info{}, false
	}
	if !c.done {
		c.info, c.isCt = InfoFromPath(c.path)
		c.done = true
	}
	return c.info, c.isCt
}

// Err is the error of the last walk, if it failed.
func (r *Resolver) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.walkError
}

// Len is how many cgroups the cache holds.
func (r *Resolver) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

// lookup finds id in the cache, walking the tree on a miss when the last
// walk is old enough.
func (r *Resolver) lookup(id uint64) *cached {
	if id == 0 {
		return nil
	}
	if c, ok := r.byID[id]; ok {
		return c
	}
	now := r.now()
	if r.gen > 0 && now.Sub(r.lastWalk) < r.gap {
		return nil
	}
	if t, ok := r.missed[id]; ok && now.Sub(t) < r.interval {
		return nil
	}
	r.lastWalk = now
	r.walkError = r.walk(id)
	c, ok := r.byID[id]
	if !ok {
		if len(r.missed) >= r.max {
			clear(r.missed)
		}
		r.missed[id] = now
		return nil
	}
	delete(r.missed, id)
	return c
}

// walk reads the whole tree into the cache, then trims it to the bound,
// keeping the cgroup the walk is for.
func (r *Resolver) walk(want uint64) error {
	r.gen++
	err := filepath.WalkDir(r.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == r.root {
				return err
			}
			// A cgroup removed while walking: skip it.
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return errors.New("no inode in stat")
		}
		rel := "/"
		if path != r.root {
			rel = path[len(r.root):]
		}
		if c, ok := r.byID[st.Ino]; ok && c.path == rel {
			c.gen = r.gen
			return nil
		}
		r.byID[st.Ino] = &cached{path: rel, gen: r.gen}
		return nil
	})
	r.trim(want)
	if err != nil {
		return fmt.Errorf("walk cgroup tree %s: %w", r.root, err)
	}
	return nil
}

// trim drops cgroups the last walk did not see, then any but keep, until
// the cache fits its bound.
func (r *Resolver) trim(keep uint64) {
	if len(r.byID) <= r.max {
		return
	}
	for id, c := range r.byID {
		if len(r.byID) <= r.max {
			return
		}
		if c.gen != r.gen && id != keep {
			delete(r.byID, id)
		}
	}
	for id := range r.byID {
		if len(r.byID) <= r.max {
			return
		}
		if id != keep {
			delete(r.byID, id)
		}
	}
}
