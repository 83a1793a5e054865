package field

import (
	"regexp"
	"testing"
)

func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	name := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	roles := map[Role]int{}
	for _, f := range All() {
		if seen[f.Name] {
			t.Errorf("%s defined twice", f.Name)
		}
		seen[f.Name] = true
		if !name.MatchString(f.Name) {
			t.Errorf("%s is not snake_case", f.Name)
		}
		if f.Description == "" || len(f.Sources) == 0 {
			t.Errorf("%s lacks a description or sources", f.Name)
		}
		if (f.Role == Label || f.Role == Metadata) && f.Type != String {
			t.Errorf("%s: labels and metadata are strings", f.Name)
		}
		roles[f.Role]++
	}
	// ARCHITECTURE.md: the stream labels and the structured metadata.
	for _, want := range []struct {
		name string
		role Role
	}{
		{"source", Label}, {"cluster", Label}, {"host", Label}, {"namespace", Label}, {"workload", Label},
		{"pod", Metadata}, {"container", Metadata}, {"container_id", Metadata}, {"session", Metadata}, {"exec_id", Metadata},
		{"time", Timestamp},
	} {
		f, ok := Lookup(want.name)
		if !ok || f.Role != want.role {
			t.Errorf("%s: role %q, want %q", want.name, f.Role, want.role)
		}
	}
	if roles[Label] != 5 || roles[Metadata] != 5 || roles[Timestamp] != 1 {
		t.Errorf("roles = %v, want 5 labels, 5 metadata, 1 timestamp", roles)
	}
}

func TestClosest(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cmm", "comm"},
		{"sourceaddresses", "source_addresses"},
		{"SourceAddresses", "source_addresses"},
		{"comand", "command"},
		{"namespac", "namespace"},
		{"x", ""},
		{"time", ""}, // not filterable: never suggested, and nothing else is near
		{"zzzzzzzzzzzz", ""},
		{string(make([]byte, 1<<20)), ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.in); got != tt.want {
			t.Errorf("Closest(%.20q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSources(t *testing.T) {
	for _, s := range Sources {
		got, ok := ParseSource(string(s))
		if !ok || got != s {
			t.Errorf("ParseSource(%s) = %s, %v", s, got, ok)
		}
		if SourceTitle(s) == string(s) {
			t.Errorf("%s has no title", s)
		}
	}
	if _, ok := ParseSource("proc"); ok {
		t.Error("ParseSource(proc) ok")
	}
}
