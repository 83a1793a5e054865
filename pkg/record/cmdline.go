package record

import "strings"

// TruncatedMark ends a command line the kernel cut at its argv bound.
const TruncatedMark = " [truncated]"

// CommandLine renders argv as one line a shell would read back to the same
// argv: arguments with spaces, quotes or shell characters are single-quoted.
// It allocates once: the line is measured before it is written.
func CommandLine(args []string, truncated bool) string {
	n := len(args)
	for _, a := range args {
		n += quotedLen(a)
	}
	if truncated {
		n += len(TruncatedMark)
	}
	var b strings.Builder
	b.Grow(n)
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeQuoted(&b, a)
	}
	if truncated {
		b.WriteString(TruncatedMark)
	}
	return b.String()
}

// safeBytes are the bytes an argument may hold and stay unquoted.
var safeBytes = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range []byte("-_./:=,+@%^") {
		t[c] = true
	}
	return t
}()

func needsQuotes(a string) bool {
	if a == "" {
		return true
	}
	for i := 0; i < len(a); i++ {
		if !safeBytes[a[i]] {
			return true
		}
	}
	return false
}

// quotedLen is the length writeQuoted writes.
func quotedLen(a string) int {
	if !needsQuotes(a) {
		return len(a)
	}
	return len(a) + 2 + 3*strings.Count(a, "'")
}

// writeQuoted writes a as is when it is safe, else single-quoted, each
// quote in it written as close quote, backslash, quote, open quote.
func writeQuoted(b *strings.Builder, a string) {
	if !needsQuotes(a) {
		b.WriteString(a)
		return
	}
	b.WriteByte('\'')
	for {
		i := strings.IndexByte(a, '\'')
		if i < 0 {
			break
		}
		b.WriteString(a[:i])
		b.WriteString(`'\''`)
		a = a[i+1:]
	}
	b.WriteString(a)
	b.WriteByte('\'')
}
