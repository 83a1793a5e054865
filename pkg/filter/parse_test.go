package filter

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"seed include", `comm="grep"`, `comm="grep"`},
		{"seed exclude", `comm!="grep"`, `comm!="grep"`},
		{"seed exclude bash", `comm!="bash"`, `comm!="bash"`},
		{"seed combined", `resource="pods" name="woocommerce-6877958" source_addresses!="172.20.41.2"`, `resource="pods" name="woocommerce-6877958" source_addresses!="172.20.41.2"`},
		{"regex include", `cmdline=~"curl .*"`, `cmdline=~"curl .*"`},
		{"regex exclude", `comm!~"ba?sh"`, `comm!~"ba?sh"`},
		{"empty", ``, ``},
		{"only space", " \t\n ", ``},
		{"extra space collapsed", "  comm=\"a\"   \n pid=\"1\" ", `comm="a" pid="1"`},
		{"space around operator", `comm = "a"  cmdline =~ "x"`, `comm="a" cmdline=~"x"`},
		{"escapes kept", `cmdline="say \"hi\" \\ bye"`, `cmdline="say \"hi\" \\ bye"`},
		{"regex backslash", `cmdline=~"a\\.b"`, `cmdline=~"a\\.b"`},
		{"repeat removed", `comm="a" comm="a" comm="b"`, `comm="a" comm="b"`},
		{"number normalised", `pid="0042"`, `pid="42"`},
		{"empty value", `namespace=""`, `namespace=""`},
		{"bool", `probe="false" session_entry="true"`, `probe="false" session_entry="true"`},
		{"source", `source="kube_exec"`, `source="kube_exec"`},
		{"unicode", `cwd="/tmp/é 日本"`, `cwd="/tmp/é 日本"`},
		{"newline in value", "cmdline=\"a\nb\"", "cmdline=\"a\nb\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := f.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			// Canonical text parses back to the same canonical text.
			g, err := Parse(f.String())
			if err != nil {
				t.Fatalf("Parse(canonical %q): %v", f.String(), err)
			}
			if g.String() != f.String() {
				t.Errorf("not stable: %q -> %q", f.String(), g.String())
			}
		})
	}
}

func TestParseTerms(t *testing.T) {
	f, err := Parse(`resource="pods"  name!~"wo.*" pid="7"`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Term{
		{Field: "resource", Op: Eq, Value: "pods", Offset: 0},
		{Field: "name", Op: Nre, Value: "wo.*", Offset: 17},
		{Field: "pid", Op: Eq, Value: "7", Offset: 30},
	}
	if len(f.Terms) != len(want) {
		t.Fatalf("got %d terms, want %d", len(f.Terms), len(want))
	}
	for i := range want {
		if f.Terms[i] != want[i] {
			t.Errorf("term %d = %+v, want %+v", i, f.Terms[i], want[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		column     int
		msg        string // substring of the message
		suggestion string
	}{
		{"missing value", `comm=`, 6, "expected a double-quoted value after comm=", ""},
		{"unterminated", `comm="x`, 6, "unterminated value", ""},
		{"unknown field", `cmm="x"`, 1, `unknown attribute "cmm"; did you mean "comm"?`, "comm"},
		{"sysdig spelling", `resource="pods" sourceaddresses!="1"`, 17, `did you mean "source_addresses"?`, "source_addresses"},
		{"unknown field far from all", `zzzzzzzzzzzz="x"`, 1, `unknown attribute "zzzzzzzzzzzz"`, ""},
		{"invalid regex", `comm=~"(x"`, 7, "invalid regular expression: missing closing )", ""},
		{"double equals", `comm=="x"`, 5, `unknown operator "=="`, ""},
		{"less than", `pid<"3"`, 4, `unknown operator "<"`, ""},
		{"no operator", `comm "x"`, 6, "expected an operator", ""},
		{"bare field name", `comm`, 5, "expected an operator", ""},
		{"bare word", `grep`, 1, `unknown attribute "grep"`, ""},
		{"unquoted value", `comm=grep`, 6, "expected a double-quoted value", ""},
		{"no space between terms", `comm="a"pid="1"`, 9, "expected white space", ""},
		{"bad escape", `cmdline="a\.b"`, 11, `unknown escape \.`, ""},
		{"number field", `pid="x1"`, 5, "pid is a number", ""},
		{"negative number", `server_port="-1"`, 13, "server_port is a number", ""},
		{"bool field", `probe="yes"`, 7, "probe is true or false", ""},
		{"unknown source", `source="proc"`, 8, `unknown source "proc"`, ""},
		{"time not filterable", `time="1"`, 1, "time cannot be filtered on", ""},
		{"starts with quote", `"x"`, 1, "expected an attribute name", ""},
		{"position counts characters", `cwd="é" cmm="x"`, 9, "unknown attribute", "comm"},
		{"value too long", `comm="` + strings.Repeat("a", 1<<20) + `"`, 6, "value too long", ""},
		{"unterminated long value", `comm="` + strings.Repeat("a", 1<<20), 6, "value too long", ""},
		{"name too long", strings.Repeat("c", 100) + `="x"`, 1, "attribute name too long", ""},
		{"too many terms", strings.Repeat(`comm="a" `, MaxTerms+1), 1 + 9*MaxTerms, "too many terms", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Parse(%.40q) error = %v, want *Error", tt.in, err)
			}
			if fe.Column != tt.column {
				t.Errorf("column = %d, want %d (%s)", fe.Column, tt.column, fe.Msg)
			}
			if !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", fe.Msg, tt.msg)
			}
			if fe.Suggestion != tt.suggestion {
				t.Errorf("suggestion = %q, want %q", fe.Suggestion, tt.suggestion)
			}
			if !strings.HasPrefix(fe.Error(), "invalid filter at column ") {
				t.Errorf("Error() = %q", fe.Error())
			}
		})
	}
}

func TestIncludeExclude(t *testing.T) {
	tests := []struct {
		name, start string
		apply       func(Filter) Filter
		want        string
	}{
		{"include into empty", ``, func(f Filter) Filter { return f.Include("comm", "grep") }, `comm="grep"`},
		{"exclude into empty", ``, func(f Filter) Filter { return f.Exclude("comm", "grep") }, `comm!="grep"`},
		{"include twice", `comm="grep"`, func(f Filter) Filter { return f.Include("comm", "grep") }, `comm="grep"`},
		{"include another value ORs", `comm="grep"`, func(f Filter) Filter { return f.Include("comm", "ls") }, `comm="grep" comm="ls"`},
		{"exclude replaces include", `pid="1" comm="grep"`, func(f Filter) Filter { return f.Exclude("comm", "grep") }, `pid="1" comm!="grep"`},
		{"include replaces exclude", `comm!="grep" pid="1"`, func(f Filter) Filter { return f.Include("comm", "grep") }, `pid="1" comm="grep"`},
		{"value with quotes", ``, func(f Filter) Filter { return f.Include("cmdline", `echo "a\b"`) }, `cmdline="echo \"a\\b\""`},
		{"regex terms kept", `comm=~"ba.*"`, func(f Filter) Filter { return f.Exclude("comm", "bash") }, `comm=~"ba.*" comm!="bash"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.apply(MustParse(tt.start)).String()
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if _, err := Parse(got); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	f := MustParse(`comm!="a" pod="p" comm="b" comm="c" comm="b" namespace="n"`)
	gs := f.Groups()
	var names []string
	for _, g := range gs {
		names = append(names, g.Field.Name)
	}
	if got := strings.Join(names, ","); got != "namespace,pod,comm" {
		t.Fatalf("groups in order %s, want registry order namespace,pod,comm", got)
	}
	comm := gs[2]
	if len(comm.Include) != 2 || comm.Include[0].Value != "b" || comm.Include[1].Value != "c" {
		t.Errorf("comm includes = %+v", comm.Include)
	}
	if len(comm.Exclude) != 1 || comm.Exclude[0].Value != "a" {
		t.Errorf("comm excludes = %+v", comm.Exclude)
	}
}
