package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/collector/redact"
)

func TestRedactFlag(t *testing.T) {
	tests := []struct {
		name     string
		values   []string
		defaults bool
		wantErr  string
		// wantRules are the rule names in order; masked checks them at work
		wantRules []string
		in, want  string
	}{
		{name: "built-in rules only", defaults: true, wantRules: ruleNames(redact.DefaultRules),
			in: "curl -u u:p https://x --password hunter2", want: "curl -u u:p https://x --password ***"},
		{name: "a rule added to the built-in ones", values: []string{`vault=(vault login )(\S+)`}, defaults: true,
			wantRules: append(ruleNames(redact.DefaultRules), "vault"),
			in:        "vault login s.abc --password x", want: "vault login *** --password ***"},
		{name: "only the rule given", values: []string{`vault=(vault login )(\S+)`},
			wantRules: []string{"vault"},
			in:        "vault login s.abc --password x", want: "vault login *** --password x"},
		{name: "no rules at all", wantRules: []string{}, in: "mysql -psecret", want: "mysql -psecret"},
		{name: "pattern with = kept whole", values: []string{`kv=(key=)(\w+)`}, wantRules: []string{"kv"},
			in: "app key=abc", want: "app key=***"},
		{name: "no name", values: []string{"=(a)(b)"}, wantErr: "want NAME=REGEX"},
		{name: "no pattern", values: []string{"x"}, wantErr: "want NAME=REGEX"},
		{name: "bad regex", values: []string{"x=(a"}, wantErr: "missing closing )"},
		{name: "one group", values: []string{"x=(a)b"}, wantErr: "want two capture groups"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f redactFlag
			var err error
			for _, v := range tc.values {
				if err = f.Set(v); err != nil {
					break
				}
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Set: error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			rules := f.rules(tc.defaults)
			if rules == nil {
				t.Fatal("rules are nil, which the pipeline reads as the built-in rules")
			}
			if got := ruleNames(rules); !slices.Equal(got, tc.wantRules) {
				t.Errorf("rules %v, want %v", got, tc.wantRules)
			}
			r, err := redact.New(rules)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := r.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func ruleNames(rules []redact.Rule) []string {
	names := []string{}
	for _, r := range rules {
		names = append(names, r.Name)
	}
	return names
}
