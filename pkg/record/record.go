// Package record is Activity Audit's record: one activity (a command, a
// connection, a kube exec request) and its encoding as a Loki entry — stream
// labels, structured metadata and a JSON line body holding every other field —
// and back.
//
// The Record type is generated from the field registry (pkg/field).
package record

//go:generate go run ./internal/recordgen -o record_gen.go

import (
	"github.com/activityaudit/activityaudit/pkg/field"
)

// present reports whether a number field is written to the body: always on the
// sources the field applies to (so uid 0 is filterable as "0"), elsewhere only
// when set.
func (r *Record) present(idx int, nonZero bool) bool {
	return nonZero || appliesTo(idx, r.Source)
}

// applies[i][s] caches field.All()[i].AppliesTo(field.Sources[s]).
var applies = func() [][]bool {
	t := make([][]bool, len(field.All()))
	for i, f := range field.All() {
		t[i] = make([]bool, len(field.Sources))
		for s, src := range field.Sources {
			t[i][s] = f.AppliesTo(src)
		}
	}
	return t
}()

func appliesTo(idx int, s field.Source) bool {
	switch s {
	case field.Cmd:
		return applies[idx][0]
	case field.Net:
		return applies[idx][1]
	case field.KubeExec:
		return applies[idx][2]
	}
	return false
}
