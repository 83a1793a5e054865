// Package redact removes secrets from command lines before a record leaves
// the collector: passwords in flags, Authorization headers, credentials and
// tokens in URLs, secret-looking environment assignments.
package redact

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
)

// Mask replaces every redacted secret.
const Mask = "***"

// Rule is one redaction: Pattern's first capture group is kept, its second
// (the secret) is replaced by Mask; any later groups are kept.
type Rule struct {
	Name    string `yaml:"name" json:"name"`
	Pattern string `yaml:"pattern" json:"pattern"`
	// Hints, when set, are strings of which every match of Pattern holds
	// at least one (compared without ASCII case): a command line holding
	// none is not searched. They only save time; a rule without hints
	// searches every command line.
	Hints []string `yaml:"hints,omitempty" json:"hints,omitempty"`
}

// DefaultRules are the rules used when none are configured.
var DefaultRules = []Rule{
	{"password-flag", `(?i)(--?(?:password|passwd|pass|pwd|secret|token|api[-_]?key|access[-_]?key|secret[-_]?key|client[-_]?secret|auth[-_]?token)(?:=|\s+))("[^"]*"|'[^']*'|\S+)`,
		[]string{"pass", "pwd", "secret", "token", "key"}},
	{"authorization-header", `(?i)((?:authorization|proxy-authorization|x-api-key|x-auth-token):\s*(?:bearer\s+|basic\s+|token\s+)?)("[^"]*"|[^\s'"]+)`,
		[]string{"authorization", "x-api-key", "x-auth-token"}},
	{"url-credentials", `([a-zA-Z][a-zA-Z0-9+.-]*://[^:/\s@]+:)([^@\s/]+)(@)`,
		[]string{"://"}},
	{"url-token", `(?i)([?&](?:token|access_token|id_token|api_key|apikey|key|secret|password|passwd|sig|signature|x-amz-signature|x-amz-credential)=)([^&\s'"]+)`,
		[]string{"token=", "key=", "secret=", "password=", "passwd=", "sig=", "signature=", "credential="}},
	{"secret-assignment", `(\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*=)("[^"]*"|'[^']*'|\S+)`,
		[]string{"passw", "secret", "token", "api_key", "apikey", "access_key", "private_key"}},
	{"mysql-password", `(\bmysql(?:dump|admin)?\s(?:\S+\s)*?-p)([^\s-]\S*)`,
		[]string{"mysql"}},
}

type compiled struct {
	name  string
	re    *regexp.Regexp
	hints [][]byte // lower case; nil: no pre-check
	hits  atomic.Uint64
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
		c := &compiled{name: rule.Name, re: re}
		for _, h := range rule.Hints {
			if h == "" {
				return nil, fmt.Errorf("compile redaction rule %q: empty hint", rule.Name)
			}
			c.hints = append(c.hints, []byte(strings.ToLower(h)))
		}
		r.rules = append(r.rules, c)
	}
	return r, nil
}

// Redact returns s with every secret masked, and whether anything was.
func (r *Redactor) Redact(s string) (string, bool) {
	changed := false
	var stack [512]byte
	lower := appendLower(stack[:0], s)
	for _, c := range r.rules {
		if !c.mayMatch(lower) || !c.re.MatchString(s) {
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

// mayMatch tells whether lower (the command line in lower case) holds one
// of the rule's hints, or the rule has none.
func (c *compiled) mayMatch(lower []byte) bool {
	if c.hints == nil {
		return true
	}
	for _, h := range c.hints {
		if bytes.Contains(lower, h) {
			return true
		}
	}
	return false
}

// appendLower appends s with ASCII letters in lower case, and the two
// other letters that (?i) folds onto ASCII ones — U+017F ſ onto s, U+212A
// Kelvin K onto k — as those ASCII letters, so that a hint holds wherever
// a case-insensitive pattern can match.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == 0xC5 && i+1 < len(s) && s[i+1] == 0xBF:
			c, i = 's', i+1
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x84 && s[i+2] == 0xAA:
			c, i = 'k', i+2
		}
		b = append(b, c)
	}
	return b
}

// Counts returns how many secrets each rule masked.
func (r *Redactor) Counts() map[string]uint64 {
	out := make(map[string]uint64, len(r.rules))
	for _, c := range r.rules {
		out[c.name] = c.hits.Load()
	}
	return out
}
