package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func run(args ...string) (code int, out, errOut string) {
	var o, e bytes.Buffer
	code = Main(context.Background(), args, IO{In: strings.NewReader(""), Out: &o, Err: &e})
	return code, o.String(), e.String()
}

func TestLogQL(t *testing.T) {
	const rng = "--from=2026-11-26T10:00:00Z"
	tests := []struct {
		name    string
		args    []string
		code    int
		out     string // exact stdout
		errPart string // substring of stderr
	}{
		{"list", []string{"logql", `comm="grep"`}, 0, `{job="activity-audit"} | json comm | comm="grep"` + "\n", ""},
		{"flags after filter", []string{"logql", `comm!="bash"`, "--sources", "cmd,net"}, 0, `{job="activity-audit", source=~"cmd|net"} | json comm | comm!="bash"` + "\n", ""},
		{"empty filter", []string{"logql", "--sources=kube_exec"}, 0, `{job="activity-audit", source="kube_exec"}` + "\n", ""},
		{"frequency", []string{"logql", "--kind=frequency", rng, "--to=2026-11-26T11:00:00Z", `namespace="shop"`}, 0,
			`sum by (source) (count_over_time({job="activity-audit", namespace="shop"} [15s]))` + "\n", ""},
		{"groups by container", []string{"logql", "--kind=groups", "--by=host,container_id", "--since=24h"}, 0,
			`sum by (host, container_id) (count_over_time({job="activity-audit"} [24h]))` + "\n", ""},
		{"trace", []string{"logql", "--kind=trace", "node-a:1:2"}, 0, `{job="activity-audit"} | session="node-a:1:2"` + "\n", ""},
		{"values", []string{"logql", "--kind=values", "--field=comm", "--limit=5", "--since=1h", "--sources=cmd"}, 0,
			`topk(5, sum by (comm) (count_over_time({job="activity-audit", source="cmd"} | json comm [1h])))` + "\n", ""},
		{"bad filter names the position", []string{"logql", `pid="1" cmm="x"`}, 2, "",
			"invalid filter at column 9: unknown attribute \"cmm\"; did you mean \"comm\"?\n  pid=\"1\" cmm=\"x\"\n          ^"},
		{"bad operator", []string{"logql", `comm=="x"`}, 2, "", "column 5: unknown operator"},
		{"bad source", []string{"logql", "--sources=proc"}, 2, "", `unknown source "proc"`},
		{"bad kind", []string{"logql", "--kind=pie"}, 2, "", `unknown --kind "pie"`},
		{"two filters", []string{"logql", `comm="a"`, `pid="1"`}, 2, "", "one FILTER argument"},
		{"trace without session", []string{"logql", "--kind=trace"}, 2, "", "needs a SESSION"},
		{"bad time", []string{"logql", "--from=yesterday"}, 2, "", `parse time "yesterday"`},
		{"empty range", []string{"logql", "--from=now", "--to=now-1h"}, 2, "", "the time range is empty"},
		{"groups by unknown field", []string{"logql", "--kind=groups", "--by=nope"}, 2, "", `group by "nope"`},
		{"unknown flag", []string{"logql", "--nope"}, 2, "", "flag provided but not defined"},
		{"help", []string{"logql", "-h"}, 0, "", "Usage: collector logql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if out != tt.out {
				t.Errorf("stdout %q, want %q", out, tt.out)
			}
			if !strings.Contains(errOut, tt.errPart) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.errPart)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		outPart string
		errPart string
	}{
		{"no command is run", []string{"--sink=nowhere"}, 2, "", `unknown --sink "nowhere"`},
		{"help", []string{"help"}, 0, "logql", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.outPart) || !strings.Contains(errOut, tt.errPart) {
				t.Errorf("exit %d stdout %q stderr %q", code, out, errOut)
			}
		})
	}
}
