package policy

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/loki"
)

func TestReadAndScope(t *testing.T) {
	shellText := "10:05:12.345678901: Notice A shell was spawned | user=root command=bash container_id=a1a1a1a1a1a1 container_name=php k8s_pod_name=web-1 k8s_ns_name=shop"
	tests := []struct {
		name   string
		labels map[string]string
		line   string
		format string
		scope  string // Scope("")
		full   string // Scope(full id) when set
		user   string
	}{
		{
			name:   "syscall, text, pod in the labels",
			labels: map[string]string{"rule": "Terminal shell in container", "source": "syscall", "priority": "Notice", "k8s_ns_name": "shop", "k8s_pod_name": "web-1"},
			line:   shellText, format: FormatText,
			scope: `namespace="shop" pod="web-1" container_id=~"a1a1a1a1a1a1.*"`,
			full:  `namespace="shop" pod="web-1" container_id="` + strings.Repeat("a1", 32) + `"`,
		},
		{
			name:   "syscall, text, pod only in the line",
			labels: map[string]string{"rule": "r", "source": "syscall"},
			line:   shellText, format: FormatText,
			scope: `namespace="shop" pod="web-1" container_id=~"a1a1a1a1a1a1.*"`,
		},
		{
			name:   "k8s_audit, text",
			labels: map[string]string{"rule": "Attach/Exec Pod", "source": "k8s_audit"},
			line:   "10:05:10.120000000: Notice Attach/Exec to pod (user=johndoe pod=web-1 resource=pods ns=shop action=exec command=bash)",
			format: FormatText, scope: `namespace="shop" pod="web-1"`, user: "johndoe",
		},
		{
			name:   "k8s_audit, json, with the audit id",
			labels: map[string]string{"rule": "Attach/Exec Pod", "source": "k8s_audit"},
			line:   `{"uuid":"u","output":"o","priority":"Notice","rule":"Attach/Exec Pod","time":"2026-11-26T10:05:10.12Z","output_fields":{"ka.auditid":"00c8decc","ka.target.name":"web-1","ka.target.namespace":"shop","ka.user.name":"johndoe"},"source":"k8s_audit","tags":["k8s"],"hostname":"h"}`,
			format: FormatJSON, scope: `namespace="shop" pod="web-1"`, user: "johndoe",
		},
		{
			name:   "a node's process",
			labels: map[string]string{"rule": "r", "source": "syscall", "hostname": "node-a"},
			line:   `{"output":"o","rule":"r","output_fields":{"container.id":"host","proc.pid":1234}}`,
			format: FormatJSON, scope: `host="node-a"`,
		},
		{
			name:   "a full container id",
			labels: map[string]string{"rule": "r", "source": "activityaudit"},
			line:   `{"output":"o","rule":"r","output_fields":{"activity.container_id":"` + strings.Repeat("b2", 32) + `"}}`,
			format: FormatJSON, scope: `container_id="` + strings.Repeat("b2", 32) + `"`,
		},
		{
			name:   "not a container id",
			labels: map[string]string{"rule": "r", "source": "syscall"},
			line:   "x | container_id=<NA> container_name=x\" k8s_ns_name=a",
			format: FormatText, scope: ``,
		},
		{
			name:   "a plugin's alert names no place",
			labels: map[string]string{"rule": "testjson hello event", "source": "testjson", "hostname": "vm"},
			line:   "15:23:58.761710777: Warning testjson event seen (msg=hello-1 info={\"msg\":\"hello-1\",\"n\":1})",
			format: FormatText, scope: ``,
		},
		{
			name:   "a line that only looks like JSON",
			labels: map[string]string{"rule": "r", "source": "syscall"},
			line:   "{not json} container_id=c3c3c3c3c3c3",
			format: FormatText, scope: `container_id=~"c3c3c3c3c3c3.*"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Read(labelList(tt.labels), 42, tt.line)
			if a.Format != tt.format || a.K8sUser != tt.user || a.Time != 42 {
				t.Errorf("format %q user %q time %d", a.Format, a.K8sUser, a.Time)
			}
			if got := a.Scope("").String(); got != tt.scope {
				t.Errorf("scope %s\nwant  %s", got, tt.scope)
			}
			if tt.full != "" {
				if got := a.Scope(strings.Repeat("a1", 32)).String(); got != tt.full {
					t.Errorf("resolved scope %s\nwant %s", got, tt.full)
				}
			}
		})
	}
}

// labelList is m as stream labels, sorted by name.
func labelList(m map[string]string) []loki.Label {
	var ls []loki.Label
	for _, k := range slices.Sorted(maps.Keys(m)) {
		ls = append(ls, loki.Label{Name: k, Value: m[k]})
	}
	return ls
}

func TestReadLastLabelCounts(t *testing.T) {
	a := Read([]loki.Label{{Name: "rule", Value: "a"}, {Name: "source", Value: "s"}, {Name: "rule", Value: "b"}}, 1, "x")
	if a.Rule != "b" || a.Source != "s" {
		t.Errorf("rule %q source %q", a.Rule, a.Source)
	}
}

func TestContainerPrefix(t *testing.T) {
	for id, want := range map[string]string{
		"a1B2c3": "a1b2c3", "": "", "host": "", "a1\x11": "", "0123456789abcdefABCDEF": "0123456789abcdefabcdef",
		strings.Repeat("f", 64): strings.Repeat("f", 64), strings.Repeat("f", 65): "", "<NA>": "", "ab cd": "",
	} {
		a := Alert{ContainerID: id}
		if got := a.ContainerPrefix(); got != want {
			t.Errorf("ContainerPrefix(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestOutputFields(t *testing.T) {
	got := outputFields("x (user=johndoe pod=web-1), ns=shop,\u00a0container_id=<NA> container_id=abc) k8s_pod_name= container_name=php user=other")
	want := textFields{user: "johndoe", pod: "web-1", ns: "shop", containerID: "abc", containerName: "php"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// outputFieldsByWords is outputFields word by word, as first written.
func outputFieldsByWords(output string) textFields {
	var out textFields
	for tok := range strings.FieldsSeq(output) {
		tok = strings.TrimLeft(tok, "(")
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			continue
		}
		dst := out.field(k)
		if dst == nil {
			continue
		}
		v = strings.TrimRight(v, "),")
		if *dst == "" && v != "" && v != "<NA>" {
			*dst = v
		}
	}
	return out
}

func FuzzOutputFields(f *testing.F) {
	f.Add("10:05:12.345678901: Notice A shell was spawned | user=root command=bash container_id=a1a1a1a1a1a1 container_name=php k8s_pod_name=web-1 k8s_ns_name=shop")
	f.Add("x (user=johndoe pod=web-1), ns=shop,\u00a0container_id=<NA> container_id=abc) k8s_pod_name= container_name=php user=other")
	f.Add("a=b=c ((pod==x\u2028ns=\xff=y user=\u0085z=1")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := outputFields(s), outputFieldsByWords(s); got != want {
			t.Fatalf("outputFields(%q) = %+v, want %+v", s, got, want)
		}
	})
}
