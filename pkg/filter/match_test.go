package filter

import (
	"slices"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

var (
	bash = record.Record{Source: field.Cmd, Namespace: "shop", Pod: "web-1", Comm: "bash", Cmdline: "bash", UID: 0, PID: 10, SessionEntry: true}
	grep = record.Record{Source: field.Cmd, Namespace: "shop", Pod: "web-1", Comm: "grep", Cmdline: "grep -r x\n/etc", UID: 1000, PID: 11}
	conn = record.Record{Source: field.Net, Namespace: "kube-system", Pod: "dns-1", Comm: "coredns", PID: 12, ServerPort: 53, L4Proto: "udp"}
	exec = record.Record{Source: field.KubeExec, Namespace: "shop", Pod: "web-1", Resource: "pods", Name: "web-1", SourceAddresses: "172.20.41.2", ExecTTY: true}
	all  = []record.Record{bash, grep, conn, exec}
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   []int // indexes into all
	}{
		{"empty matches all", ``, []int{0, 1, 2, 3}},
		{"include", `comm="grep"`, []int{1}},
		{"exclude keeps records without the field", `comm!="grep"`, []int{0, 2, 3}},
		{"same field includes OR", `comm="grep" comm="bash"`, []int{0, 1}},
		{"same field excludes AND", `comm!="grep" comm!="bash"`, []int{2, 3}},
		{"different fields AND", `namespace="shop" comm="bash"`, []int{0}},
		{"include and exclude on one field", `comm=~".*" comm!="grep"`, []int{0, 2, 3}},
		{"regex is anchored", `comm=~"gre"`, nil},
		{"regex whole value", `comm=~"gr.p"`, []int{1}},
		{"dot matches newline", `cmdline=~"grep.*etc"`, []int{1}},
		{"regex exclude", `comm!~"ba?sh|grep"`, []int{2, 3}},
		{"empty value matches absent", `comm=""`, []int{3}},
		{"uid 0 of a command", `uid="0"`, []int{0}},
		{"uid absent on connections", `uid!="0"`, []int{1, 2, 3}},
		{"number", `server_port="53"`, []int{2}},
		{"source", `source="net"`, []int{2}},
		{"bool true", `session_entry="true"`, []int{0}},
		{"bool false means not true", `session_entry="false"`, []int{1, 2, 3}},
		{"bool not false", `session_entry!="false"`, []int{0}},
		{"bool true or false", `exec_tty="true" exec_tty="false"`, []int{0, 1, 2, 3}},
		{"metadata", `pod="web-1"`, []int{0, 1, 3}},
		{"seed kube exec", `resource="pods" name="web-1" source_addresses!="172.20.41.2"`, nil},
		{"seed kube exec other address", `resource="pods" name="web-1" source_addresses!="10.0.0.1"`, []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := MustParse(tt.filter).Matcher()
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for i := range all {
				if m.Match(&all[i]) {
					got = append(got, i)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("matched %v, want %v", got, tt.want)
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	m, err := MustParse(`namespace="shop" comm="bash" comm="grep" cmdline=~"grep.*" uid!="1"`).Matcher()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Match(&grep)
	}
}
