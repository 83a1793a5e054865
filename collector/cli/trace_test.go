package cli

import (
	"testing"
)

func TestTrace(t *testing.T) {
	base := startStore(t, activity())
	tests := []cliCase{
		{"kubectl exec session", []string{"trace", session, fromFlag, toFlag}, 0},
		{"json", []string{"trace", "--json", session, fromFlag, toFlag}, 0},
		{"link", []string{"trace", session, "--link", fromFlag, toFlag}, 0},
		{"part of the range", []string{"trace", session, fromFlag, "--to=2026-11-26T10:00:06.5Z"}, 0},
		{"parent outside the range is an orphan", []string{"trace", session, "--from=2026-11-26T10:00:07Z", "--to=2026-11-26T10:00:10Z"}, 0},
		{"unknown session", []string{"trace", "node-z:1:1", fromFlag, toFlag}, 1},
		{"no session", []string{"trace", fromFlag, toFlag}, 2},
		{"two sessions", []string{"trace", session, "node-z:1:1"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runGolden(t, base, "trace", tt) })
	}
}
