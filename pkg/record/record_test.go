package record

import (
	"encoding/json"
	"github.com/activityaudit/activityaudit/pkg/jsonscan"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/activityaudit/activityaudit/pkg/field"
)

// sampleCmd is a command record with every cmd field set.
func sampleCmd() Record {
	return Record{
		Time: 1795687500500000000, Source: field.Cmd, Cluster: "demo", Host: "node-a", HostMAC: "02:42:ac:11:00:02",
		Namespace: "shop", Workload: "woocommerce", WorkloadKind: "Deployment", Pod: "woocommerce-6877958-x2b4q",
		Container: "php", ContainerID: strings.Repeat("a1", 32), Image: "registry/app:1.0",
		Comm: "bash", Exe: "/usr/bin/bash", Cmdline: `bash -c "echo hi"`, Cwd: "/", PID: 9001, PPID: 9000,
		UID: 0, GID: 0, User: "root", LoginUID: 4294967295, TTY: "pts/0", ShellID: 9001, ShellDistance: 0,
		ExecID: "node-a:1795687500000000000:9001", ParentExecID: "node-a:1795687400000000000:9000",
		Session: "node-a:1795687500000000000:9001", SessionEntry: true, K8sUser: "johndoe", K8sGroups: "system:authenticated,dev",
	}
}

func sampleNet() Record {
	return Record{
		Time: 1795687205739326803, Source: field.Net, Cluster: "demo", Host: "node-a", Namespace: "shop", Workload: "mysql",
		WorkloadKind: "StatefulSet", Pod: "mysql-0", Container: "mysql", ContainerID: strings.Repeat("c3", 32),
		Comm: "php", PID: 4007, PPID: 1, ExecID: "node-a:5739326803:4007", Direction: "out", L4Proto: "tcp",
		ClientIP: "10.0.0.25", ClientPort: 49096, ServerIP: "10.0.1.2", ServerPort: 443,
	}
}

func sampleKubeExec() Record {
	return Record{
		Time: 1795687500000000000, Source: field.KubeExec, Cluster: "demo", Host: "node-a", Namespace: "shop",
		Workload: "woocommerce", WorkloadKind: "Deployment", Pod: "woocommerce-6877958-x2b4q", Container: "php",
		ContainerID: strings.Repeat("a1", 32), Session: "node-a:1795687500000000000:9001",
		Resource: "pods", Name: "woocommerce-6877958-x2b4q", Subresource: "exec", Command: "bash",
		K8sUser: "johndoe", K8sGroups: "system:authenticated,dev", UserAgent: "kubectl/v1.33.1 (linux/amd64) kubernetes/abc",
		SourceAddresses: "203.0.113.7", AuditID: "00c8decc-b988-4086-908b-fe8ec37b9380", ResponseCode: 101, ExecStdin: true, ExecTTY: true,
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name         string
		rec          Record
		wantLabels   string
		wantMetadata []Pair
		wantLine     string
	}{
		{
			name:       "command in a session",
			rec:        sampleCmd(),
			wantLabels: `{cluster="demo", host="node-a", job="activity-audit", namespace="shop", source="cmd", workload="woocommerce"}`,
			wantMetadata: []Pair{{"pod", "woocommerce-6877958-x2b4q"}, {"container", "php"}, {"container_id", strings.Repeat("a1", 32)},
				{"exec_id", "node-a:1795687500000000000:9001"}, {"session", "node-a:1795687500000000000:9001"}},
			wantLine: `{"host_mac":"02:42:ac:11:00:02","workload_kind":"Deployment","image":"registry/app:1.0","comm":"bash","exe":"/usr/bin/bash","cmdline":"bash -c \"echo hi\"","cwd":"/","pid":9001,"ppid":9000,"uid":0,"gid":0,"user":"root","login_uid":4294967295,"tty":"pts/0","shell_id":9001,"shell_distance":0,"parent_exec_id":"node-a:1795687400000000000:9000","session_entry":true,"k8s_user":"johndoe","k8s_groups":"system:authenticated,dev"}`,
		},
		{
			name:         "connection: no command-only numbers",
			rec:          sampleNet(),
			wantLabels:   `{cluster="demo", host="node-a", job="activity-audit", namespace="shop", source="net", workload="mysql"}`,
			wantMetadata: []Pair{{"pod", "mysql-0"}, {"container", "mysql"}, {"container_id", strings.Repeat("c3", 32)}, {"exec_id", "node-a:5739326803:4007"}},
			wantLine:     `{"workload_kind":"StatefulSet","comm":"php","pid":4007,"ppid":1,"direction":"out","l4proto":"tcp","client_ip":"10.0.0.25","client_port":49096,"server_ip":"10.0.1.2","server_port":443}`,
		},
		{
			name:         "kube exec",
			rec:          sampleKubeExec(),
			wantLabels:   `{cluster="demo", host="node-a", job="activity-audit", namespace="shop", source="kube_exec", workload="woocommerce"}`,
			wantMetadata: []Pair{{"pod", "woocommerce-6877958-x2b4q"}, {"container", "php"}, {"container_id", strings.Repeat("a1", 32)}, {"session", "node-a:1795687500000000000:9001"}},
			wantLine:     `{"workload_kind":"Deployment","resource":"pods","name":"woocommerce-6877958-x2b4q","subresource":"exec","command":"bash","k8s_user":"johndoe","k8s_groups":"system:authenticated,dev","user_agent":"kubectl/v1.33.1 (linux/amd64) kubernetes/abc","source_addresses":"203.0.113.7","audit_id":"00c8decc-b988-4086-908b-fe8ec37b9380","end_time":0,"response_code":101,"exec_stdin":true,"exec_tty":true}`,
		},
		{
			name:       "host process outside kubernetes: missing values are no labels",
			rec:        Record{Time: 1, Source: field.Cmd, Host: "laptop", Comm: "ls", PID: 5, UID: 1000},
			wantLabels: `{host="laptop", job="activity-audit", source="cmd"}`,
			wantLine:   `{"comm":"ls","pid":5,"ppid":0,"uid":1000,"gid":0,"login_uid":0,"shell_id":0,"shell_distance":0}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Encode(&tt.rec)
			if got := LabelString(e.Labels); got != tt.wantLabels {
				t.Errorf("labels = %s\n want %s", got, tt.wantLabels)
			}
			if !reflect.DeepEqual(e.Metadata, tt.wantMetadata) && (len(e.Metadata) != 0 || len(tt.wantMetadata) != 0) {
				t.Errorf("metadata = %v\n want %v", e.Metadata, tt.wantMetadata)
			}
			if e.Line != tt.wantLine {
				t.Errorf("line = %s\n want %s", e.Line, tt.wantLine)
			}
			if e.Time != tt.rec.Time {
				t.Errorf("time = %d, want %d", e.Time, tt.rec.Time)
			}
			// The body holds none of the label or metadata keys.
			var body map[string]any
			if err := json.Unmarshal([]byte(e.Line), &body); err != nil {
				t.Fatalf("line is not JSON: %v", err)
			}
			for k := range body {
				f, ok := field.Lookup(k)
				if !ok || f.Role != field.Body {
					t.Errorf("body key %q is not a body field", k)
				}
			}
		})
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, rec := range []Record{sampleCmd(), sampleNet(), sampleKubeExec(), {Time: 3, Source: field.Cmd, Cmdline: "a\x00b\n\"\\\u2028é"}} {
		t.Run(string(rec.Source), func(t *testing.T) {
			e := Encode(&rec)
			got, err := Decode(e.Time, pairMap(e.Labels), pairMap(e.Metadata), e.Line)
			if err != nil {
				t.Fatal(err)
			}
			if got != rec {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, rec)
			}
		})
	}
}

func pairMap(ps []Pair) map[string]string {
	m := map[string]string{}
	for _, p := range ps {
		m[p.Name] = p.Value
	}
	return m
}

func TestDecodeMergedLabels(t *testing.T) {
	// Loki's merged answer form: metadata, parsed fields and Loki's own labels
	// all in the stream labels.
	labels := map[string]string{
		"cluster": "demo", "host": "node-a", "job": "activity-audit", "namespace": "shop", "source": "cmd", "workload": "mysql",
		"service_name": "mysql", "detected_level": "unknown", "pod": "mysql-0", "container": "mysql", "exec_id": "node-a:1:2",
		"comm": "parsed-not-body", "pid": "99",
	}
	got, err := Decode(7, labels, nil, `{"comm":"bash","pid":4333,"tty":"","unknown_future_field":{"a":[1,2]}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := Record{Time: 7, Source: field.Cmd, Cluster: "demo", Host: "node-a", Namespace: "shop", Workload: "mysql",
		Pod: "mysql-0", Container: "mysql", ExecID: "node-a:1:2", Comm: "bash", PID: 4333}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestDecodeBodyErrors(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"not json", `hello`, "want an object"},
		{"truncated", `{"comm":"ba`, "unterminated string"},
		{"number field holds text", `{"pid":"x"}`, "field pid: want an unsigned integer"},
		{"negative number", `{"pid":-1}`, "field pid: want an unsigned integer"},
		{"bool field holds text", `{"probe":"maybe"}`, "field probe: want a boolean"},
		{"string field holds object", `{"comm":{}}`, "field comm: want a string"},
		{"trailing data", `{} x`, "data after the object"},
		{"bad escape", `{"comm":"\q"}`, "bad escape"},
		{"control character", "{\"comm\":\"a\x01\"}", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(0, nil, nil, tt.line)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTextAsLokiSeesIt(t *testing.T) {
	cmd, net := sampleCmd(), sampleNet()
	tests := []struct {
		name  string
		rec   *Record
		field string
		want  string
	}{
		{"label", &cmd, "namespace", "shop"},
		{"source", &net, "source", "net"},
		{"metadata", &cmd, "pod", "woocommerce-6877958-x2b4q"},
		{"uid 0 of a command is 0", &cmd, "uid", "0"},
		{"uid of a connection is absent", &net, "uid", ""},
		{"true bool", &cmd, "session_entry", "true"},
		{"false bool is absent", &cmd, "probe", ""},
		{"empty string", &net, "cmdline", ""},
		{"number", &net, "server_port", "443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.rec.Text(tt.field)
			if !ok || got != tt.want {
				t.Errorf("Text(%s) = %q, %v; want %q", tt.field, got, ok, tt.want)
			}
		})
	}
	if _, ok := cmd.Text("nope"); ok {
		t.Error("Text of an unknown field is ok")
	}
}

func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\x00\x01\x1f\x7f", "tab\tnl\ncr\r", "é日本🙂", "\u2028\u2029", "bad\xffutf8\xc3", "<html>&"} {
		got := string(jsonscan.AppendString(nil, s))
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("%q encodes to invalid JSON %s: %v", s, got, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if !utf8.ValidString(s) {
			want = string([]rune(s))
		}
		if back != want {
			t.Errorf("%q round-trips to %q, want %q", s, back, want)
		}
		var sc jsonscan.Scanner
		sc.Reset(got)
		mine, err := sc.String()
		if err != nil || mine != back {
			t.Errorf("scanner reads %s as %q, %v; encoding/json reads %q", got, mine, err, back)
		}
	}
}
