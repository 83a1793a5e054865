package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestObject(t *testing.T) {
	type kv struct {
		key  string
		kind Kind
		text string
		b    bool
	}
	tests := []struct {
		name string
		in   string
		want []kv
	}{
		{"empty", `{}`, nil},
		{"flat", `{"a":"x","n":-1.5e3,"t":true,"f":false,"z":null}`, []kv{{"a", String, "x", false}, {"n", Number, "-1.5e3", false}, {"t", Bool, "", true}, {"f", Bool, "", false}, {"z", Null, "", false}}},
		{"nested kept raw", ` { "o" : {"p":[1,"]"]} , "a":[{}] } `, []kv{{"o", Object, `{"p":[1,"]"]}`, false}, {"a", Array, `[{}]`, false}}},
		{"escapes", `{"s":"q\"b\\s\/\n\u00e9\ud83d\ude42"}`, []kv{{"s", String, "q\"b\\s/\né🙂", false}}},
		{"lone surrogate", `{"s":"\ud800x"}`, []kv{{"s", String, "\uFFFDx", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []kv
			var sc Scanner
			sc.Reset(tt.in)
			err := sc.Object(func(k string, v Value) error {
				got = append(got, kv{k, v.Kind, v.Text, v.Bool})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("%d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestObjectErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":tru}`, `{"a":"x"`, `{"a":"\x"}`, `{"a":1} 2`, `{"a":[`} {
		var sc Scanner
		sc.Reset(in)
		err := sc.Object(func(string, Value) error { return nil })
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: error %v, want ErrSyntax", in, err)
		}
	}
}

// skipPlainByByte is SkipPlain one byte at a time.
func skipPlainByByte(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\' {
		i++
	}
	return i
}

func TestSkipPlain(t *testing.T) {
	specials := []byte{'"', '\\', 0, 0x1f, 0x7f, 0x80, 0xff, ' ', 'a', '~', '!', '#', '[', ']', 0xc3, 0xa9}
	for n := range 20 {
		for pos := range n {
			for _, c := range specials {
				b := []byte(strings.Repeat("a", n))
				b[pos] = c
				if pos+1 < n {
					b[pos+1] = '"' // what follows the first special byte must not matter
				}
				for from := 0; from <= n; from++ {
					if got, want := SkipPlain(string(b), from), skipPlainByByte(string(b), from); got != want {
						t.Fatalf("SkipPlain(%q, %d) = %d, want %d", b, from, got, want)
					}
				}
			}
		}
	}
}

func FuzzSkipPlain(f *testing.F) {
	f.Add("abc\"def", 0)
	f.Add("0123456789abcdef\x01", 3)
	f.Fuzz(func(t *testing.T, s string, from int) {
		if from < 0 || from > len(s) {
			return
		}
		if got, want := SkipPlain(s, from), skipPlainByByte(s, from); got != want {
			t.Fatalf("SkipPlain(%q, %d) = %d, want %d", s, from, got, want)
		}
	})
}

// TestAppendStringMatchesEncodingJSON: AppendString writes what
// encoding/json writes without HTML escaping.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain ascii longer than eight", "q\"b\\s/\n\r\t\x01\x7f", "é🙂\u2028\u2029x", "a\xffb\xc3", strings.Repeat("ab\"", 9)} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got, want := string(AppendString(nil, s)), strings.TrimSuffix(buf.String(), "\n"); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestValueUint(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		want uint64
		err  bool
	}{
		{"zero", Value{Kind: Number, Text: "0"}, 0, false},
		{"short", Value{Kind: Number, Text: "9001"}, 9001, false},
		{"19 digits", Value{Kind: Number, Text: "9999999999999999999"}, 9999999999999999999, false},
		{"largest", Value{Kind: Number, Text: "18446744073709551615"}, 1<<64 - 1, false},
		{"overflow", Value{Kind: Number, Text: "18446744073709551616"}, 0, true},
		{"negative", Value{Kind: Number, Text: "-1"}, 0, true},
		{"fraction", Value{Kind: Number, Text: "1.5"}, 0, true},
		{"exponent", Value{Kind: Number, Text: "1e3"}, 0, true},
		{"quoted", Value{Kind: String, Text: "42"}, 42, false},
		{"quoted text", Value{Kind: String, Text: "4a"}, 0, true},
		{"null", Value{Kind: Null}, 0, false},
		{"bool", Value{Kind: Bool, Bool: true}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.v.Uint("f")
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("Uint = %d, %v; want %d, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}
