package cli

import (
	"fmt"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
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
		{"by the kube exec's audit id", []string{"trace", "7f3c2a9e-1b2d-4c5e-8f90-a1b2c3d4e5f6", fromFlag, toFlag}, 0},
		{"a denied kube exec", []string{"trace", "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", fromFlag, toFlag}, 0},
		{"a denied kube exec as json", []string{"trace", "--json", "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", fromFlag, toFlag}, 0},
		{"unknown audit id", []string{"trace", "00000000-0000-0000-0000-000000000000", fromFlag, toFlag}, 1},
		{"no session", []string{"trace", fromFlag, toFlag}, 2},
		{"two sessions", []string{"trace", session, "node-z:1:1"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runGolden(t, base, "trace", tt) })
	}
}

// Two people exec the same command into the same pod at the same moment:
// which session is whose is not guessed, from either side.
func TestTraceAmbiguous(t *testing.T) {
	var recs []record.Record
	for i, who := range []string{"bob@example.com", "carol@example.com"} {
		k := webA
		k.Time, k.Source = at("10:30:00.000")+int64(i)*int64(time.Millisecond)*100, field.KubeExec
		k.Resource, k.Name, k.Subresource, k.Command = "pods", "web-7d9f-abc", "exec", "date"
		k.K8sUser, k.AuditID, k.ResponseCode = who, fmt.Sprintf("aaaaaaaa-0000-0000-0000-00000000000%d", i+1), 101
		k.ContainerID, k.Image, k.WorkloadKind = "", "", ""
		sess := execID("node-a", 50000000000+i, 5000+i)
		e := cmdRec(webA, at("10:30:00.300")+int64(i)*int64(time.Millisecond)*10, 5000+i, 4990, sess, execID("node-a", 1, 4990), "root", 0, "date")
		e.Session, e.SessionEntry = sess, true
		recs = append(recs, k, e)
	}
	base := startStore(t, recs)
	for _, tt := range []cliCase{
		{"session of two identical execs", []string{"trace", execID("node-a", 50000000000, 5000), fromFlag, toFlag}, 0},
		{"request of two identical execs", []string{"trace", "aaaaaaaa-0000-0000-0000-000000000002", fromFlag, toFlag}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) { runGolden(t, base, "trace", tt) })
	}
}
