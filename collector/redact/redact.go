// Package redact removes secrets from command lines before a record leaves
// the collector: passwords in flags, Authorization headers, credentials and
// tokens in URLs, secret-looking environment assignments.
package redact

import (
	"fmt"
	"regexp"
	"sync/atomic"
)

// Mask replaces every redacted secret.
const Mask = "***"

// Rule is one redaction: Pattern's first capture group is kept, its second
// (the secret) is replaced by Mask; any later groups are kept.
type Rule struct {
	Name    string `yaml:"name" json:"name"`
	Pattern string `yaml:"pattern" json:"pattern"`
}

// DefaultRules are the rules used when none are configured.
var DefaultRules = []Rule{
	{"password-flag", `(?i)(--?(?:password|passwd|pass|pwd|secret|token|api[-_]?key|access[-_]?key|secret[-_]?key|client[-_]?secret|auth[-_]?token)(?:=|\s+))("[^"]*"|'[^']*'|\S+)`},
	{"authorization-header", `(?i)((?:authorization|proxy-authorization|x-api-key|x-auth-token):\s*(?:bearer\s+|basic\s+|token\s+)?)("[^"]*"|[^\s'"]+)`},
	{"url-credentials", `([a-zA-Z][a-zA-Z0-9+.-]*://[^:/\s@]+:)([^@\s/]+)(@)`},
	{"url-token", `(?i)([?&](?:token|access_token|id_token|api_key|apikey|key|secret|password|passwd|sig|signature|x-amz-signature|x-amz-credential)=)([^&\s'"]+)`},
	{"secret-assignment", `(\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*=)("[^"]*"|'[^']*'|\S+)`},
	{"mysql-password", `(\bmysql(?:dump|admin)?\s(?:\S+\s)*?-p)([^\s-]\S*)`},
}

type compiled struct {
	name string
	re   *regexp.Regexp
	hits atomic.Uint64
}

// Redactor applies rules. It is safe for concurrent use.
type Redactor struct {
	rules []*compiled
}

// New compiles rules; each must have at least two capture groups.
func New(rules []Rule) (*Redactor, error) {
	r := &Redactor{}
	for _, rule := range rules {
		re, err := regexp.Compile(rule.Pattern)
		if err != nil {
			return nil, fmt.Errorf("compile redaction rule %q: %w", rule.Name, err)
		}
		if re.NumSubexp() < 2 {
			return nil, fmt.Errorf("compile redaction rule %q: want two capture groups (kept prefix, secret), got %d", rule.Name, re.NumSubexp())
		}
		r.rules = append(r.rules, &compiled{name: rule.Name, re: re})
	}
	return r, nil
}

// Redact returns s with every secret masked, and whether anything was.
func (r *Redactor) Redact(s string) (string, bool) {
	changed := false
	for _, c := range r.rules {
		if !c.re.MatchString(s) {
			continue
		}
		s = c.re.ReplaceAllStringFunc(s, func(m string) string {
			sub := c.re.FindStringSubmatchIndex(m)
			if sub[4] < 0 || m[sub[4]:sub[5]] == Mask {
				return m
			}
			changed = true
			c.hits.Add(1)
			return m[:sub[4]] + Mask + m[sub[5]:]
		})
	}
	return s, changed
}

// Counts returns how many secrets each rule masked.
func (r *Redactor) Counts() map[string]uint64 {
	out := make(map[string]uint64, len(r.rules))
	for _, c := range r.rules {
		out[c.name] = c.hits.Load()
	}
	return out
}
