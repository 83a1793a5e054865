package trace

import "strings"

// Walk calls fn for every process in tree order — each root, then its
// children depth first, oldest first — with its depth (0 for a root).
// When fn returns false the process's children are skipped.
func (s *Session) Walk(fn func(p *Process, depth int) bool) {
	var walk func(ps []*Process, depth int)
	walk = func(ps []*Process, depth int) {
		for _, p := range ps {
			if fn(p, depth) {
				walk(p.Children, depth+1)
			}
		}
	}
	walk(s.Roots, 0)
}

// Item is a process in the flattened tree, with what drawing the tree needs.
type Item struct {
	Process *Process
	// Depth is 0 for a root.
	Depth int
	// Last reports whether the process is the last of its siblings (roots
	// included).
	Last bool
	// open[i] reports whether the branch at depth i+1 on the way to the
	// process (the process itself last) continues below it.
	open []bool
}

// Flatten returns the processes in tree order (Walk's).
func (s *Session) Flatten() []Item {
	var items []Item
	var walk func(ps []*Process, depth int, open []bool)
	walk = func(ps []*Process, depth int, open []bool) {
		for i, p := range ps {
			last := i == len(ps)-1
			it := Item{Process: p, Depth: depth, Last: last}
			if depth > 0 {
				it.open = append(open[:depth-1:depth-1], !last)
			}
			items = append(items, it)
			walk(p.Children, depth+1, it.open)
		}
	}
	walk(s.Roots, 0, nil)
	return items
}

// Tree-drawing pieces, three columns each.
const (
	branchMid  = "├─ "
	branchLast = "└─ "
	guide      = "│  "
	blank      = "   "
)

// Branch is the prefix of the process's own line: guides for its ancestors
// and its branch ("│  ├─ "). Roots have none.
func (it Item) Branch() string {
	if it.Depth == 0 {
		return ""
	}
	var b strings.Builder
	for _, o := range it.open[:it.Depth-1] {
		b.WriteString(pick(o, guide, blank))
	}
	b.WriteString(pick(it.Last, branchLast, branchMid))
	return b.String()
}

// Stem is the prefix of the lines under the process's own line and above
// its children (its connections): the guides of its branch, and one more
// when children follow.
func (it Item) Stem() string {
	var b strings.Builder
	for _, o := range it.open {
		b.WriteString(pick(o, guide, blank))
	}
	b.WriteString(pick(len(it.Process.Children) > 0, guide, blank))
	return b.String()
}

func pick(c bool, yes, no string) string {
	if c {
		return yes
	}
	return no
}
