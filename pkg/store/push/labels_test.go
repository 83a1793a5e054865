package push

import (
	"reflect"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

func TestParseLabelString(t *testing.T) {
	tests := []struct {
		name, in string
		want     stream.Labels
		wantErr  string
	}{
		{name: "one", in: `{a="b"}`, want: stream.Labels{{Name: "a", Value: "b"}}},
		{name: "loki-format", in: `{job="activity-audit", source="net"}`, want: stream.Labels{{Name: "job", Value: "activity-audit"}, {Name: "source", Value: "net"}}},
		{name: "order-kept", in: `{z="1",a="2"}`, want: stream.Labels{{Name: "z", Value: "1"}, {Name: "a", Value: "2"}}},
		{name: "spaces", in: " \t{ a = \"b\" ,\n c=\"d\" } \r\n", want: stream.Labels{{Name: "a", Value: "b"}, {Name: "c", Value: "d"}}},
		{name: "trailing-comma", in: `{a="b",}`, want: stream.Labels{{Name: "a", Value: "b"}}},
		{name: "empty-set", in: `{}`, want: nil},
		{name: "empty-value", in: `{a=""}`, want: stream.Labels{{Name: "a", Value: ""}}},
		{name: "escapes", in: `{a="q\"uote\\ \n\t\u00e9\x41"}`, want: stream.Labels{{Name: "a", Value: "q\"uote\\ \n\téA"}}},
		{name: "raw", in: "{a=`x\\y\"z`}", want: stream.Labels{{Name: "a", Value: `x\y"z`}}},
		{name: "utf8", in: `{a="日本"}`, want: stream.Labels{{Name: "a", Value: "日本"}}},
		{name: "underscore-digits", in: `{_a1_B2="x"}`, want: stream.Labels{{Name: "_a1_B2", Value: "x"}}},
		{name: "duplicates-kept", in: `{a="1",a="2"}`, want: stream.Labels{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}},
		{name: "comma-in-value", in: `{a="x,}y"}`, want: stream.Labels{{Name: "a", Value: "x,}y"}}},

		{name: "empty", in: ``, wantErr: `parse error at position 1: expected "{"`},
		{name: "no-braces", in: `a="b"`, wantErr: `parse error at position 1: expected "{"`},
		{name: "metric-name", in: `up{a="b"}`, wantErr: `parse error at position 1: expected "{"`},
		{name: "unclosed", in: `{a="b"`, wantErr: `parse error at position 7: expected "," or "}"`},
		{name: "unquoted-value", in: `{a=b}`, wantErr: `parse error at position 4: expected a quoted value, found 'b'`},
		{name: "single-quoted", in: `{a='b'}`, wantErr: `parse error at position 4: expected a quoted value, found '\''`},
		{name: "missing-comma", in: `{a="b" c="d"}`, wantErr: `parse error at position 8: expected "," or "}"`},
		{name: "double-comma", in: `{a="b",,c="d"}`, wantErr: `parse error at position 8: expected a label name, found ','`},
		{name: "leading-comma", in: `{,a="b"}`, wantErr: `parse error at position 2: expected a label name, found ','`},
		{name: "digit-first", in: `{1a="b"}`, wantErr: `parse error at position 2: expected a label name, found '1'`},
		{name: "dash", in: `{a-b="c"}`, wantErr: `parse error at position 3: expected "=" after label name "a"`},
		{name: "dot", in: `{a.b="c"}`, wantErr: `parse error at position 3: expected "=" after label name "a"`},
		{name: "matcher", in: `{a!="c"}`, wantErr: `parse error at position 3: expected "=" after label name "a"`},
		{name: "regex-matcher", in: `{a=~"c"}`, wantErr: `parse error at position 4: expected a quoted value, found '~'`},
		{name: "no-value", in: `{a=}`, wantErr: `parse error at position 4: expected a quoted value, found '}'`},
		{name: "end-after-equals", in: `{a=`, wantErr: `parse error at position 4: unexpected end of labels, expected a quoted value`},
		{name: "end-after-brace", in: `{`, wantErr: `parse error at position 2: unexpected end of labels, expected a label name`},
		{name: "unterminated", in: `{a="b}`, wantErr: `parse error at position 4: unterminated quoted value`},
		{name: "unterminated-escape", in: `{a="b\`, wantErr: `parse error at position 4: unterminated quoted value`},
		{name: "unterminated-raw", in: "{a=`b}", wantErr: `parse error at position 4: unterminated raw value`},
		{name: "bad-escape", in: `{a="\q"}`, wantErr: `parse error at position 4: invalid quoted value "\q"`},
		{name: "newline", in: "{a=\"x\ny\"}", wantErr: `parse error at position 6: newline in quoted value`},
		{name: "invalid-utf8", in: "{a=\"\xff\"}", wantErr: `parse error at position 4: invalid UTF-8 in value`},
		{name: "escaped-invalid-utf8", in: `{a="\xff"}`, wantErr: `parse error at position 4: invalid UTF-8 in value`},
		{name: "trailing-text", in: `{a="b"} c`, wantErr: `parse error at position 9: unexpected text after the closing brace`},
		{name: "two-sets", in: `{a="b"}{c="d"}`, wantErr: `parse error at position 8: unexpected text after the closing brace`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLabelString(tc.in, nil)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestParseLabelStringRoundTrip: whatever stream.Labels.String() writes
// parses back to the same set.
func TestParseLabelStringRoundTrip(t *testing.T) {
	sets := []stream.Labels{
		{{Name: "a", Value: "b"}},
		{{Name: "job", Value: "activity-audit"}, {Name: "namespace", Value: "kube-system"}},
		{{Name: "q", Value: "\"'`\\\n\r\t\x00\u2028é日本😀"}},
		{{Name: "x", Value: strings.Repeat("long ", 500)}},
	}
	for _, ls := range sets {
		got, err := parseLabelString(ls.String(), nil)
		if err != nil || !got.Equal(ls) {
			t.Fatalf("%s: got %v, %v", ls, got, err)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "_": true, "__name__": true, "A9_z": true, "service_name": true,
		"": false, "9": false, "a-b": false, "a.b": false, "é": false, "a b": false, "a\x00": false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v", name, got)
		}
		if got := validName([]byte(name)); got != want {
			t.Errorf("validName([]byte(%q)) = %v", name, got)
		}
	}
}
