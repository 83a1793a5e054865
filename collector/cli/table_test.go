package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTableWidth(t *testing.T) {
	tb := &table{cols: []tableCol{{title: "TIME"}, {title: "SCOPE", give: 1, min: 12}, {title: "PID", right: true}, {title: "CMDLINE", give: 2, min: 20}}}
	tb.add("10:00", "shop/web-7d9f-abc", "4242", "curl -s http://api.shop.svc:8080/health --retry 5")
	tb.add("10:01", "host", "1", "")
	tests := []struct {
		name  string
		width int
		want  string
	}{
		{"not a terminal: whole cells", 0, "" +
			"TIME   SCOPE               PID  CMDLINE\n" +
			"10:00  shop/web-7d9f-abc  4242  curl -s http://api.shop.svc:8080/health --retry 5\n" +
			"10:01  host                  1  -\n"},
		{"wide terminal", 200, "" +
			"TIME   SCOPE               PID  CMDLINE\n" +
			"10:00  shop/web-7d9f-abc  4242  curl -s http://api.shop.svc:8080/health --retry 5\n" +
			"10:01  host                  1  -\n"},
		{"scope gives way before the command line", 60, "" +
			"TIME   SCOPE          PID  CMDLINE\n" +
			"10:00  shop/web-7d…  4242  curl -s http://api.shop.svc:8080…\n" +
			"10:01  host             1  -\n"},
		{"then both, below their minimum widths", 40, "" +
			"TIME   SCOPE          PID  CMDLINE\n" +
			"10:00  shop/web-7d…  4242  curl -s http…\n" +
			"10:01  host             1  -\n"},
		{"too narrow for the fixed columns: lines are cut", 20, "" +
			"TIME   SCOPE      P…\n" +
			"10:00  shop/we…  42…\n" +
			"10:01  host        …\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			tb.write(&b, tt.width)
			if got := b.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if tt.width > 0 {
				for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
					if n := utf8.RuneCountInString(l); n > tt.width {
						t.Errorf("line of %d characters: %q", n, l)
					}
				}
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "curl -s http://x/ ü €", "curl -s http://x/ ü €"},
		{"terminal escapes", "printf \x1b[2J\x1b[31mred", `printf \x1b[2J\x1b[31mred`},
		{"newline and tab", "a\nb\tc\r", `a\nb\tc\r`},
		{"invalid utf-8", "a\xffb", `a\xffb`},
		{"bidi override", "ls \u202etxt.exe", `ls \u202etxt.exe`},
		{"C1 control", "a\u009bb", `a\x9bb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := printable(tt.in); got != tt.want {
				t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestClockShort(t *testing.T) {
	c := newClock(false)
	ref := at("23:59:59.000")
	if got := c.short(at("23:59:59.500"), ref); got != "23:59:59.500" {
		t.Errorf("same day: %s", got)
	}
	next := ref + int64(2*time.Second)
	if got := c.short(next, ref); got != "2026-11-27T00:00:01.000Z" {
		t.Errorf("next day: %s", got)
	}
}

func TestConnHint(t *testing.T) {
	refused := fmt.Errorf("query loki: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	tests := []struct {
		name string
		url  string
		err  error
		hint bool
	}{
		{"default url refused", "", refused, true},
		{"given url refused", "http://loki:3100", refused, false},
		{"other error", "", errors.New("query loki: 500"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := connHint(tt.err, &connFlags{url: tt.url})
			if has := strings.Contains(got.Error(), "collector store"); has != tt.hint {
				t.Errorf("hint %v: %v", has, got)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("the error is not wrapped")
			}
		})
	}
}
