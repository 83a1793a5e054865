package record

import "testing"

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args      []string
		truncated bool
		want      string
	}{
		{[]string{"ls", "-la", "/tmp"}, false, "ls -la /tmp"},
		{[]string{"sh", "-c", "echo \"a b\"; exit 0"}, false, `sh -c 'echo "a b"; exit 0'`},
		{[]string{"echo", "it's", ""}, false, `echo 'it'\''s' ''`},
		{[]string{"x", "a=b,c:d@e%f"}, true, "x a=b,c:d@e%f [truncated]"},
		{[]string{"printf", "''", "a'b'c", "$HOME"}, false, `printf ''\'''\''' 'a'\''b'\''c' '$HOME'`},
		{nil, false, ""},
		{nil, true, TruncatedMark},
	}
	for _, tt := range tests {
		if got := CommandLine(tt.args, tt.truncated); got != tt.want {
			t.Errorf("CommandLine(%q) = %s, want %s", tt.args, got, tt.want)
		}
		if allocs := testing.AllocsPerRun(10, func() { CommandLine(tt.args, tt.truncated) }); allocs > 1 {
			t.Errorf("CommandLine(%q): %v allocations, want at most 1", tt.args, allocs)
		}
	}
}
