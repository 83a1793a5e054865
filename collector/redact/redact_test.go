package redact

import (
	"strings"
	"testing"
)

func TestDefaultRules(t *testing.T) {
	r, err := New(DefaultRules)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"nothing secret", "ls -la /tmp", "ls -la /tmp"},
		{"password flag with =", "psql --password=hunter2 -h db", "psql --password=*** -h db"},
		{"password flag with space", "app --token abc.def.ghi --verbose", "app --token *** --verbose"},
		{"quoted value", `tool --client-secret "two words" x`, `tool --client-secret *** x`},
		{"api key", "cli --api-key=XYZ", "cli --api-key=***"},
		{"bearer header", `curl -H "Authorization: Bearer eyJhbGci.x.y" https://api`, `curl -H "Authorization: Bearer ***" https://api`},
		{"basic header", `curl -H 'authorization: Basic dXNlcjpwYXNz' x`, `curl -H 'authorization: Basic ***' x`},
		{"url credentials", "git clone https://user:s3cret@github.com/x.git", "git clone https://user:***@github.com/x.git"},
		{"url token", "curl https://x/api?token=abc&page=2", "curl https://x/api?token=***&page=2"},
		{"signed url", "wget 'https://b.s3/o?X-Amz-Signature=deadbeef'", "wget 'https://b.s3/o?X-Amz-Signature=***'"},
		{"env assignment", "env DB_PASSWORD=pw123 ./run", "env DB_PASSWORD=*** ./run"},
		{"mysql -p", "mysql -u root -proot123 shop", "mysql -u root -p*** shop"},
		{"mysql -p alone asks", "mysql -u root -p shop", "mysql -u root -p shop"},
		{"several", "x --password=a --token=b", "x --password=*** --token=***"},
		{"already masked", "x --password=***", "x --password=***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := r.Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if changed != (tt.in != tt.want) {
				t.Errorf("changed = %v", changed)
			}
		})
	}
	counts := r.Counts()
	if counts["password-flag"] < 5 || counts["url-credentials"] != 1 || counts["mysql-password"] != 1 {
		t.Errorf("counts %v", counts)
	}
}

func TestNewErrors(t *testing.T) {
	for _, rules := range [][]Rule{
		{{Name: "bad", Pattern: "("}},
		{{Name: "one group", Pattern: "(x)"}},
		{{Name: "empty hint", Pattern: "(x)(y)", Hints: []string{""}}},
	} {
		if _, err := New(rules); err == nil || !strings.Contains(err.Error(), rules[0].Name) {
			t.Errorf("New(%v) error %v", rules, err)
		}
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("curl -H 'Authorization: Bearer x' https://u:p@h/?token=t --password=p")
	r, err := New(DefaultRules)
	if err != nil {
		f.Fatal(err)
	}
	// The same rules without hints: hints may only save time.
	var bare []Rule
	for _, rule := range DefaultRules {
		bare = append(bare, Rule{Name: rule.Name, Pattern: rule.Pattern})
	}
	unhinted, err := New(bare)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, _ := r.Redact(s)
		again, changed := r.Redact(out)
		if changed || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, again)
		}
		if want, _ := unhinted.Redact(s); out != want {
			t.Fatalf("hints changed the result: %q -> %q, without hints %q", s, out, want)
		}
	})
}

func TestHints(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no hint: untouched", "ls -la /tmp", "ls -la /tmp"},
		{"hint in upper case", "curl --PASSWORD=hunter2", "curl --PASSWORD=***"},
		{"long s folds onto s", "app --paſsword=hunter2", "app --paſsword=***"},
		{"Kelvin sign folds onto k", "app --api-\u212aey=abc", "app --api-\u212aey=***"},
		{"longer than the stack buffer", strings.Repeat("x", 600) + " --token=abc", strings.Repeat("x", 600) + " --token=***"},
	}
	r, err := New(DefaultRules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := r.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	r, err := New(DefaultRules)
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range []struct{ name, s string }{
		{"plain", "/usr/bin/python3 /opt/app/manage.py runserver 0.0.0.0:8000 --settings=app.settings.prod"},
		{"secret", "curl -H 'Authorization: Bearer abc' https://u:p@example.com/?token=t --password=p"},
	} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Redact(in.s)
			}
		})
	}
}
