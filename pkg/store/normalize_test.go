package store

import (
	"strings"
	"testing"
)

// The comparison must see the differences that matter: a changed entry,
// label or value makes two answers unequal; Loki's own additions do not.
func TestNormalizeSeesDifferences(t *testing.T) {
	byName := map[string]recordedCase{}
	for _, c := range loadCases(t) {
		byName[c.Name] = c
	}
	tests := []struct {
		name, cas, old, new string
		equal               bool
	}{
		{"entry line", "trace-session", `apt-get install`, `apt-get remove`, false},
		{"metadata", "trace-session", `"pod": "woocommerce-6877958-x2b4q"`, `"pod": "other"`, false},
		{"stream label", "list-source-backward", `"namespace": "kube-system"`, `"namespace": "x"`, false},
		{"matrix value", "frequency-by-source", `"11"`, `"12"`, false},
		{"vector value", "health-vector", `"2"`, `"3"`, false},
		{"label list", "labels", `"cluster"`, `"clusters"`, false},
		{"service_name ignored", "series", `"service_name": "woocommerce"`, `"service_name": "x"`, true},
		{"detected_level ignored", "trace-session", `"detected_level": "unknown"`, `"detected_level": "info"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := byName[tt.cas]
			if !ok {
				t.Fatalf("no case %s", tt.cas)
			}
			orig := string(c.Response.Body)
			// cases.json is indented; the raw body keeps the file's spacing.
			mod := strings.Replace(orig, tt.old, tt.new, 1)
			if mod == orig {
				t.Fatalf("%q not found in %s", tt.old, tt.cas)
			}
			if eq := normalize(t, []byte(orig)) == normalize(t, []byte(mod)); eq != tt.equal {
				t.Errorf("equal = %v, want %v", eq, tt.equal)
			}
		})
	}
}
