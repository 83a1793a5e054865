package jsonscan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// quote is s as the contents of a JSON string.
func quote(s string) string {
	q := string(AppendString(nil, s))
	return q[1 : len(q)-1]
}

// calls records the keys and values fn receives, and fails at key "fail".
type calls []string

func (c *calls) fn(key string, v Value) error {
	*c = append(*c, fmt.Sprintf("%s=%d/%q/%v", key, v.Kind, v.Text, v.Bool))
	if key == "fail" {
		return errors.New("refused")
	}
	return nil
}

func TestObjectQuoted(t *testing.T) {
	tests := []struct {
		text    string
		inPlace bool
	}{
		{`{}`, true},
		{` { "a" : "x" , "n":-1.5e3,"t":true,"f":false,"z":null } `, true},
		{`{"comm":"bash","pid":9001,"u":"é🙂"}`, true},
		{`{"s":"q\"b","t":"\\\/\b\f\n\r\t\u00e9x"}`, true},
		{"{\"s\":\"a\\nb\"}", true},
		{`{"s":"\ud83d\ude00"}`, false},
		{"{\"s\":\"a<&>\\u003c/b\"}", true},
		{`{"s":"\x"}`, false},
		{`{"s":"\u00g9"}`, false},
		{"{\"s\":\"a\nb\"}", false},
		{"{\n\"a\":1}", false},
		{`{"o":{"p":1}}`, false},
		{`{"a":[1]}`, false},
		{`{"a":01}`, false},
		{`{"a":tru}`, false},
		{`{"a":1,}`, false},
		{`{"a":1} x`, false},
		{`{"a":"x"`, false},
		{"{\"a\":\"\xff\"}", true}, // quoted as \ufffd
		{`{"a":1,"fail":2,"b":3}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			q := quote(tt.text)
			var fast, slow calls
			errFast := ObjectQuoted(q, fast.fn)
			if inPlace := !errors.Is(errFast, ErrNotInPlace); inPlace != tt.inPlace {
				t.Fatalf("read in place: %v (%v), want %v", inPlace, errFast, tt.inPlace)
			}
			u, ok := Unquote(q)
			if !ok || u != strings.ToValidUTF8(tt.text, "\uFFFD") {
				t.Fatalf("Unquote(%q) = %q, %v", q, u, ok)
			}
			var sc Scanner
			sc.Reset(u)
			errSlow := sc.Object(slow.fn)
			if tt.inPlace && (fmt.Sprint(errFast) != fmt.Sprint(errSlow) || fmt.Sprint(fast) != fmt.Sprint(slow)) {
				t.Errorf("in place: %v %v\nunquoted: %v %v", fast, errFast, slow, errSlow)
			}
		})
	}
}

// encoding/json escapes <, > and & as \u003c...: those read in place too.
func TestObjectQuotedHTMLEscapes(t *testing.T) {
	var got calls
	if err := ObjectQuoted(`{\"s\":\"a \u0026\u0026 b \u003e c\/d\"}`, got.fn); err != nil {
		t.Fatal(err)
	}
	if want := `[s=0/"a && b > c/d"/false]`; fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestUnquote(t *testing.T) {
	for q, want := range map[string]string{
		`plain`: "plain", `a\"b\\c\/\n\u00e9`: "a\"b\\c/\né", "é": "é", "\xff": "\uFFFD", ``: "",
	} {
		if got, ok := Unquote(q); !ok || got != want {
			t.Errorf("Unquote(%q) = %q, %v; want %q", q, got, ok, want)
		}
	}
	for _, bad := range []string{`a"b`, `a\`, `\x`, `\u12`, "a\x01"} {
		if got, ok := Unquote(bad); ok {
			t.Errorf("Unquote(%q) = %q, accepted", bad, got)
		}
	}
}

// FuzzObjectQuoted: what ObjectQuoted reads in place, Object reads the same
// from the unquoted text.
func FuzzObjectQuoted(f *testing.F) {
	f.Add(`{"comm":"bash","pid":9001,"probe":true,"x":null}`, false)
	f.Add(`{"s":"q\"b","n":-0.5e+1}`, false)
	f.Add(`{\"a\":\"b\"}`, true)
	f.Add(`{"a":0,"b":12,"c":0.5,"d":3e2,"e":-4,"f":10E1}`, false)
	f.Add(`{"a":01}`, false)
	f.Add(`{"a":1x}`, false)
	f.Fuzz(func(t *testing.T, s string, raw bool) {
		q := s // raw: s is taken as the string's contents as they are
		if !raw {
			q = quote(s)
		}
		var fast, slow calls
		errFast := ObjectQuoted(q, fast.fn)
		if errors.Is(errFast, ErrNotInPlace) {
			return
		}
		u, ok := Unquote(q)
		if !ok {
			t.Fatalf("read %q in place, which Unquote refuses", q)
		}
		var sc Scanner
		sc.Reset(u)
		errSlow := sc.Object(slow.fn)
		if fmt.Sprint(errFast) != fmt.Sprint(errSlow) || fmt.Sprint(fast) != fmt.Sprint(slow) {
			t.Fatalf("%q in place: %v %v\nunquoted: %v %v", q, fast, errFast, slow, errSlow)
		}
	})
}

func TestSkipQuoted(t *testing.T) {
	for _, s := range []string{``, `"`, `abc"`, `a\"b\\"`, `0123456\"89abcdef"x`, `0123456\u00e9abcdef"`, "0123456\\u00e", "é\xff\x7f\"", "01234567\x1f\"",
		`\/\b\f\n\r\t\u0041\"1234567"`, `1234567\x"`, `123456\`, strings.Repeat(`\"`, 9) + `"`} {
		for i := 0; i <= len(s); i++ {
			if got, want := SkipQuoted(s, i), skipQuotedBytes(s, i); got != want {
				t.Errorf("SkipQuoted(%q, %d) = %d, want %d", s, i, got, want)
			}
		}
	}
}

func FuzzSkipQuoted(f *testing.F) {
	f.Add(`{\"a\":\"b\"}" x`)
	f.Add("0123456\\u00e9\x01abcdef\"")
	f.Add(quotedLine)
	f.Add(`0123456\\\"89\"\\\\"abcdef\"\"ghi"`)
	f.Add(`abcdefg\"\\"\"\\\"xyz\n\"\u0041\"0123456789"`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := SkipQuoted(s, 0), skipQuotedBytes(s, 0); got != want {
			t.Fatalf("SkipQuoted(%q) = %d, want %d", s, got, want)
		}
		if end := SkipQuoted(s, 0); end >= 0 {
			if _, ok := Unquote(s[:end]); !ok {
				t.Fatalf("Unquote refuses %q, which SkipQuoted takes", s[:end])
			}
		}
	})
}
