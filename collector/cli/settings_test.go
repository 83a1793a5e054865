package cli

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestApplySettings(t *testing.T) {
	type values struct {
		url     string
		wait    time.Duration
		include []string
		debug   bool
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		config  string
		want    values
		wantErr string
	}{
		{name: "defaults", want: values{url: "", wait: time.Second}},
		{name: "config file", config: "loki-url: http://loki:3100\nbatch-wait: 2s\ninclude:\n  - a\n  - b\ndebug: true\n",
			want: values{url: "http://loki:3100", wait: 2 * time.Second, include: []string{"a", "b"}, debug: true}},
		{name: "environment beats the file", env: map[string]string{"ACTIVITYAUDIT_LOKI_URL": "http://env:3100"},
			config: "loki-url: http://file:3100\n", want: values{url: "http://env:3100", wait: time.Second}},
		{name: "flags beat both", args: []string{"--loki-url", "http://flag:3100"},
			env:    map[string]string{"ACTIVITYAUDIT_LOKI_URL": "http://env:3100", "ACTIVITYAUDIT_BATCH_WAIT": "3s"},
			config: "loki-url: http://file:3100\n", want: values{url: "http://flag:3100", wait: 3 * time.Second}},
		{name: "empty file", config: "", want: values{wait: time.Second}},
		{name: "unknown setting names the line", config: "loki-url: x\nlokiurl: y\n", wantErr: `line 2: unknown setting "lokiurl"`},
		{name: "bad value names the line", config: "\nbatch-wait: soon\n", wantErr: "line 2: batch-wait"},
		{name: "bad environment value", env: map[string]string{"ACTIVITYAUDIT_BATCH_WAIT": "soon"}, wantErr: "ACTIVITYAUDIT_BATCH_WAIT"},
		{name: "not a mapping", config: "- a\n- b\n", wantErr: "want a mapping"},
		{name: "nested value", config: "loki-url:\n  a: b\n", wantErr: "line 2: loki-url: want a value or a list"},
		{name: "invalid yaml", config: "loki-url: [\n", wantErr: "config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("run", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var v values
			fs.StringVar(&v.url, "loki-url", "", "")
			fs.DurationVar(&v.wait, "batch-wait", time.Second, "")
			fs.Func("include", "", func(s string) error { v.include = append(v.include, s); return nil })
			fs.BoolVar(&v.debug, "debug", false, "")
			fs.String("config", "", "")
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			file := ""
			if tc.config != "" || tc.name == "empty file" {
				file = filepath.Join(t.TempDir(), "collector.yaml")
				if err := os.WriteFile(file, []byte(tc.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := applySettings(fs, file, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if !errors.Is(err, errUsage) {
					t.Errorf("error %v is not a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.url != tc.want.url || v.wait != tc.want.wait || strings.Join(v.include, ",") != strings.Join(tc.want.include, ",") || v.debug != tc.want.debug {
				t.Errorf("got %+v, want %+v", v, tc.want)
			}
		})
	}
}

func TestConnFlagsValidate(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, c *connFlags)
	}{
		{name: "default url for queries", check: func(t *testing.T, c *connFlags) {
			if got := c.cfg.URL.String(); got != defaultQueryURL {
				t.Errorf("url %q", got)
			}
		}},
		{name: "basic auth from a file", args: []string{"--loki-url", "https://loki:3100", "--loki-username", "u", "--loki-password-file", pw},
			check: func(t *testing.T, c *connFlags) {
				if ba := c.cfg.Client.BasicAuth; ba == nil || ba.Username != "u" || string(ba.Password) != "s3cret" {
					t.Errorf("basic auth %+v", ba)
				}
			}},
		{name: "tenant", args: []string{"--loki-tenant", "team-a"}, check: func(t *testing.T, c *connFlags) {
			if c.cfg.TenantID != "team-a" {
				t.Errorf("tenant %q", c.cfg.TenantID)
			}
		}},
		{name: "bad scheme", args: []string{"--loki-url", "ftp://x"}, wantErr: "want http:// or https://"},
		{name: "password without user", args: []string{"--loki-password-file", pw}, wantErr: "needs --loki-username"},
		{name: "user and token", args: []string{"--loki-username", "u", "--loki-bearer-token-file", pw}, wantErr: "exclude each other"},
		{name: "cert without key", args: []string{"--loki-cert-file", pw}, wantErr: "go together"},
		{name: "missing password file", args: []string{"--loki-username", "u", "--loki-password-file", filepath.Join(dir, "nope")}, wantErr: "read loki password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var c connFlags
			c.register(fs, true)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := c.validate(defaultQueryURL)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, &c)
		})
	}
}
