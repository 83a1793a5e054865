package link

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/record"
)

var (
	from = time.UnixMilli(1795683600000)
	to   = time.UnixMilli(1795690800000)
)

// The cases of collector/cli's TestLinks: the CLI and this package must agree.
func TestURLs(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"audit, no filter", AuditURL("http://localhost:3000", from, to, nil, filter.Filter{}),
			"http://localhost:3000/a/activityaudit-app/audit?from=1795683600000&to=1795690800000"},
		{"audit, all sources is no term", AuditURL("http://g/", from, to, field.Sources, filter.MustParse(`comm="a b"`)),
			"http://g/a/activityaudit-app/audit?from=1795683600000&to=1795690800000&filter=comm%3D%22a%20b%22"},
		{"audit, sources and escapes", AuditURL("https://g.example.com/grafana", from, to, []field.Source{field.Net}, filter.MustParse(`cmdline=~"a&b+c"`)),
			"https://g.example.com/grafana/a/activityaudit-app/audit?from=1795683600000&to=1795690800000&filter=source%3D%22net%22%20cmdline%3D~%22a%26b%2Bc%22"},
		{"audit, two sources", AuditURL("http://g", from, to, []field.Source{field.Cmd, field.KubeExec}, filter.Filter{}),
			"http://g/a/activityaudit-app/audit?from=1795683600000&to=1795690800000&filter=source%3D%22cmd%22%20source%3D%22kube_exec%22"},
		{"trace", TraceURL("http://localhost:3000", "node a:1:2", from, to),
			"http://localhost:3000/a/activityaudit-app/trace/node%20a:1:2?from=1795683600000&to=1795690800000"},
		{"trace by audit id", TraceURL("http://localhost:3000/", "00c8decc-b988-4086-908b-fe8ec37b9380", from, to),
			"http://localhost:3000/a/activityaudit-app/trace/00c8decc-b988-4086-908b-fe8ec37b9380?from=1795683600000&to=1795690800000"},
		{"trace, slash in id", TraceURL("http://g", "a/b?c", from, to),
			"http://g/a/activityaudit-app/trace/a%2Fb%3Fc?from=1795683600000&to=1795690800000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

// A filter survives the trip through a link: the app reads back what was written.
func TestAuditURLFilterRoundTrip(t *testing.T) {
	for _, text := range []string{
		`comm="a b"`,
		`cmdline=~"curl .*\"x\"" comm!="sh" session="node:1:2"`,
		`k8s_user="system:serviceaccount:ns:sa" source_addresses!="10.0.0.1"`,
	} {
		flt := filter.MustParse(text)
		u, err := url.Parse(AuditURL("http://g", from, to, nil, flt))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		got, err := filter.Parse(q.Get("filter"))
		if err != nil {
			t.Fatalf("%s: parse filter back: %v", text, err)
		}
		if got.String() != flt.String() {
			t.Errorf("filter %s came back as %s", flt, got)
		}
		if q.Get("from") != "1795683600000" || q.Get("to") != "1795690800000" {
			t.Errorf("range = %s..%s", q.Get("from"), q.Get("to"))
		}
		if byText, want := AuditURLText("http://g/", from, to, flt.String()), AuditURL("http://g", from, to, nil, flt); byText != want {
			t.Errorf("AuditURLText = %s, want %s", byText, want)
		}
	}
}

func TestScope(t *testing.T) {
	tests := []struct {
		name string
		r    record.Record
		want string
	}{
		{"session wins", record.Record{Source: field.Cmd, Session: "n:1:2", ContainerID: "c1", Pod: "p", Namespace: "ns", Host: "h"}, `session="n:1:2"`},
		{"kube exec: target pod", record.Record{Source: field.KubeExec, Namespace: "shop", Name: "web-1", AuditID: "a1"}, `namespace="shop" pod="web-1"`},
		{"kube exec: pod metadata", record.Record{Source: field.KubeExec, Namespace: "shop", Pod: "web-2", Name: "web-1"}, `namespace="shop" pod="web-2"`},
		{"kube exec: audit id", record.Record{Source: field.KubeExec, AuditID: "a1"}, `audit_id="a1"`},
		{"container", record.Record{Source: field.Net, ContainerID: "c1", Pod: "p", Namespace: "ns"}, `container_id="c1"`},
		{"pod", record.Record{Source: field.Cmd, Pod: "p", Namespace: "ns", Host: "h"}, `namespace="ns" pod="p"`},
		{"host", record.Record{Source: field.Cmd, Host: "node-1"}, `host="node-1"`},
		{"nothing", record.Record{Source: field.Cmd}, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Scope(&tt.r).String(); got != tt.want {
				t.Errorf("Scope = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 5, 12, 345678901, time.UTC)
	w := Window{Before: time.Hour, After: 15 * time.Minute}
	fromMS, toMS := "1795683912345", "1795688412345" // at-1h, at+15m
	tests := []struct {
		name             string
		r                record.Record
		audit, wantTrace string
	}{
		{"command in a session",
			record.Record{Time: at.UnixNano(), Source: field.Cmd, Session: "worker-1:77:9001"},
			"http://g/a/activityaudit-app/audit?from=" + fromMS + "&to=" + toMS + "&filter=session%3D%22worker-1%3A77%3A9001%22",
			"http://g/a/activityaudit-app/trace/worker-1:77:9001?from=" + fromMS + "&to=" + toMS},
		{"connection outside a session",
			record.Record{Time: at.UnixNano(), Source: field.Net, ContainerID: "abc"},
			"http://g/a/activityaudit-app/audit?from=" + fromMS + "&to=" + toMS + "&filter=container_id%3D%22abc%22",
			""},
		{"kube exec without a session traces its audit id, to its end",
			record.Record{Time: at.UnixNano(), Source: field.KubeExec, Namespace: "shop", Name: "web", AuditID: "a-1",
				EndTime: uint64(at.Add(10 * time.Minute).UnixNano())},
			"http://g/a/activityaudit-app/audit?from=" + fromMS + "&to=1795689012345&filter=namespace%3D%22shop%22%20pod%3D%22web%22",
			"http://g/a/activityaudit-app/trace/a-1?from=" + fromMS + "&to=1795689012345"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			audit, trace := Record("http://g/", &tt.r, w)
			if audit != tt.audit {
				t.Errorf("audit\n got  %s\n want %s", audit, tt.audit)
			}
			if trace != tt.wantTrace {
				t.Errorf("trace\n got  %s\n want %s", trace, tt.wantTrace)
			}
		})
	}
}

func TestKubeExecLinks(t *testing.T) {
	start := time.Date(2026, 11, 26, 10, 5, 0, 101234000, time.UTC)
	end := time.Date(2026, 11, 26, 10, 7, 41, 900001000, time.UTC)
	k := KubeExec{AuditID: "00c8decc-b988-4086-908b-fe8ec37b9380", Namespace: "shop", Pod: "woocommerce-6877958-x2b4q", Start: start, End: end}
	audit, trace := KubeExecLinks("https://grafana.example.com", k, Window{Before: time.Minute, After: time.Minute})
	wantAudit := "https://grafana.example.com/a/activityaudit-app/audit?from=1795687440101&to=1795687721900" +
		"&filter=namespace%3D%22shop%22%20pod%3D%22woocommerce-6877958-x2b4q%22"
	wantTrace := "https://grafana.example.com/a/activityaudit-app/trace/00c8decc-b988-4086-908b-fe8ec37b9380?from=1795687440101&to=1795687721900"
	if audit != wantAudit {
		t.Errorf("audit\n got  %s\n want %s", audit, wantAudit)
	}
	if trace != wantTrace {
		t.Errorf("trace\n got  %s\n want %s", trace, wantTrace)
	}
	// No end yet: the range runs from the start.
	k.End = time.Time{}
	_, trace = KubeExecLinks("https://grafana.example.com", k, Window{Before: time.Minute, After: time.Minute})
	if !strings.HasSuffix(trace, "?from=1795687440101&to=1795687560101") {
		t.Errorf("trace without end = %s", trace)
	}
}

func TestWindowRange(t *testing.T) {
	w := Window{Before: time.Minute, After: 2 * time.Minute}
	s := time.Unix(1000, 0)
	f, e := w.Range(s, s.Add(-time.Hour))
	if !f.Equal(s.Add(-time.Minute)) || !e.Equal(s.Add(2*time.Minute)) {
		t.Errorf("Range with end before start = %v..%v", f, e)
	}
}

// TestQueryEscape holds appendQueryEscape to what links were built with
// before: url.QueryEscape with spaces as %20.
func TestQueryEscape(t *testing.T) {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"a filter", `namespace="shop" comm!~"ba?sh" cmdline=~"curl .*"`},
		{"plus and percent", "a+b%20c"},
		{"unicode", "naïve → 名前"},
		{"every byte", string(every)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := strings.ReplaceAll(url.QueryEscape(tt.in), "+", "%20")
			if got := string(appendQueryEscape(nil, []byte(tt.in))); got != want {
				t.Errorf("appendQueryEscape(%q) = %q, want %q", tt.in, got, want)
			}
		})
	}
}

func FuzzQueryEscape(f *testing.F) {
	f.Add(`pod="web-1" comm!="bash"`)
	f.Add("\x00\xff %+&=?#")
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
		if got := string(appendQueryEscape([]byte("x"), []byte(s))); got != "x"+want {
			t.Errorf("appendQueryEscape(%q) = %q, want x%q", s, got, want)
		}
	})
}
