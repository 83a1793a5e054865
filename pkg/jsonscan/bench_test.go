package jsonscan

import (
	"strings"
	"testing"
)

// quotedLine is a record's line as a Loki answer holds it: JSON inside a
// JSON string, every quote of the record escaped.
var quotedLine = strings.ReplaceAll(`{"source":"cmd","cluster":"demo","host":"node-3","namespace":"search","workload":"search-app-7",`+
	`"workload_kind":"Deployment","pod":"search-app-7-95e04b04-00027","container":"main","container_id":"`+strings.Repeat("ab", 32)+
	`","image":"registry.example/search:1.4.2","comm":"curl","exe":"/usr/bin/curl","cmdline":"curl -s http://search-app-7.search.svc:8080/health",`+
	`"cwd":"/srv","pid":4021,"ppid":3999,"uid":0,"gid":0,"user":"root","login_uid":4294967295,"shell_id":3999,"shell_distance":1}`, `"`, `\"`) + `"]`

// BenchmarkSkipQuoted finds the end of such a line.
func BenchmarkSkipQuoted(b *testing.B) {
	b.SetBytes(int64(len(quotedLine)))
	for b.Loop() {
		if SkipQuoted(quotedLine, 0) != len(quotedLine)-2 {
			b.Fatal("wrong end")
		}
	}
}

// BenchmarkAppendString writes a Falco alert's output text as a JSON
// string.
func BenchmarkAppendString(b *testing.B) {
	s := "23:59:16.800000000: Notice A shell was spawned in a container with an attached terminal | evt_type=execve user=root " +
		"process=bash container_id=000000000000 container_name=main k8s_pod_name=kube-system-app-8-e69fdc96-00048 k8s_ns_name=kube-system"
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
