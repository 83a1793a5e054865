package filter

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse: any text parses or gives a positioned *Error; what parses prints
// canonically to text that parses to the same canonical text and compiles to a
// matcher.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`comm="grep"`, `comm!="grep"`, `comm!="bash"`,
		`resource="pods" name="woocommerce-6877958" source_addresses!="172.20.41.2"`,
		`cmdline=~"curl .*"`, `comm!~"ba?sh"`, `comm=`, `comm="x`, `cmm="x"`, `comm=~"(x"`, `comm=="x"`,
		`pid="007" probe="false"`, `cwd="é\"\\"`, "a\tb", `source="kube_exec"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		flt, err := Parse(text)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error is %T, want *Error", err)
			}
			if fe.Offset < 0 || fe.Offset > len(text) {
				t.Fatalf("offset %d outside [0,%d]", fe.Offset, len(text))
			}
			if fe.Column != utf8.RuneCountInString(text[:fe.Offset])+1 {
				t.Fatalf("column %d does not match offset %d", fe.Column, fe.Offset)
			}
			return
		}
		canon := flt.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical %q does not parse: %v", canon, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical not stable: %q -> %q", canon, again.String())
		}
		if _, err := flt.Matcher(); err != nil {
			t.Fatalf("matcher: %v", err)
		}
	})
}
