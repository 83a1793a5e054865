package jsonscan

import (
	"errors"
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
