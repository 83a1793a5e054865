package cli

import (
	"testing"
)

func TestGroups(t *testing.T) {
	base := startStore(t, activity())
	tests := []cliCase{
		{"namespace workload pod", []string{"groups", fromFlag, toFlag}, 0},
		{"by host and container", []string{"groups", "--by=host,container_id", fromFlag, toFlag}, 0},
		{"by body field with filter", []string{"groups", "--by=namespace,comm", "--sources=cmd,net", `namespace="shop"`, fromFlag, toFlag}, 0},
		{"commands of a session by user", []string{"groups", "--by=user", "--sources=cmd", `session="` + session + `"`, fromFlag, toFlag}, 0},
		{"json", []string{"groups", "--json", "--by=namespace,pod", "--sources=kube_exec,cmd", fromFlag, toFlag}, 0},
		{"nothing matches", []string{"groups", `comm="nmap"`, fromFlag, toFlag}, 0},
		{"unknown field", []string{"groups", "--by=namespace,podd", fromFlag, toFlag}, 2},
		{"invalid filter", []string{"groups", `namespace=shop`, fromFlag, toFlag}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runGolden(t, base, "groups", tt) })
	}
}
