package activityaudit

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCursorHasAdvance(t *testing.T) {
	var c Cursor
	c.Advance(10, 1)
	c.Advance(10, 2)
	for _, tt := range []struct {
		ts   int64
		key  uint64
		want bool
	}{{9, 5, true}, {10, 1, true}, {10, 2, true}, {10, 3, false}, {11, 1, false}} {
		if got := c.Has(tt.ts, tt.key); got != tt.want {
			t.Errorf("Has(%d, %d) = %v, want %v", tt.ts, tt.key, got, tt.want)
		}
	}
	c.Advance(11, 7)
	if c.Time != 11 || !reflect.DeepEqual(c.Seen, []uint64{7}) {
		t.Errorf("after a later record: %+v", c)
	}
	d := c.Clone()
	d.Advance(11, 8)
	if len(c.Seen) != 1 {
		t.Errorf("Clone shares Seen: %v", c.Seen)
	}
}

func TestRecordKey(t *testing.T) {
	// FNV-1a 64 test vectors: the key must not change between versions, or
	// a saved cursor would repeat records.
	if got := RecordKey(nil); got != 0xcbf29ce484222325 {
		t.Errorf("RecordKey(empty) = %x", got)
	}
	if got := RecordKey([]byte("a")); got != 0xaf63dc4c8601ec8c {
		t.Errorf("RecordKey(a) = %x", got)
	}
}

func TestCursorFileRoundTrip(t *testing.T) {
	for _, c := range []Cursor{
		{Time: 0, Seen: []uint64{}},
		{Time: 1795687512345678901, Seen: []uint64{1, 0xffffffffffffffff, 0x0123456789abcdef}},
	} {
		data := MarshalCursor(c)
		got, err := ParseCursor(data)
		if err != nil {
			t.Fatalf("ParseCursor(%s): %v", data, err)
		}
		if got.Time != c.Time || !reflect.DeepEqual(got.Seen, c.Seen) {
			t.Errorf("round trip of %+v = %+v", c, got)
		}
	}
	want := `{"version":1,"time":"1795687512345678901","seen":["0000000000000001"]}` + "\n"
	if got := string(MarshalCursor(Cursor{Time: 1795687512345678901, Seen: []uint64{1}})); got != want {
		t.Errorf("cursor file = %s, want %s", got, want)
	}
}

func TestParseCursorErrors(t *testing.T) {
	tests := []struct{ data, want string }{
		{``, "parse cursor: EOF"},
		{`{"version":2,"time":"1","seen":[]}`, "version 2, want 1"},
		{`{"version":1,"time":"x","seen":[]}`, `time "x" is not Unix nanoseconds`},
		{`{"version":1,"time":"-5","seen":[]}`, `time "-5" is not Unix nanoseconds`},
		{`{"version":1,"time":1,"seen":[]}`, "cannot unmarshal number"},
		{`{"version":1,"time":"1","seen":["zz00000000000000"]}`, "not 16 hex digits"},
		{`{"version":1,"time":"1","seen":["01"]}`, "not 16 hex digits"},
		{`{"version":1,"time":"1","seen":[],"extra":1}`, "unknown field"},
		{`{"version":1,"time":"1","seen":[]} x`, "text after the JSON object"},
	}
	for _, tt := range tests {
		_, err := ParseCursor([]byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseCursor(%s) = %v, want an error containing %q", tt.data, err, tt.want)
		}
	}
}

func TestSaveLoadCursor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cursor")
	if _, ok, err := LoadCursor(path); ok || err != nil {
		t.Fatalf("LoadCursor of no file = %v, %v", ok, err)
	}
	c := Cursor{Time: 42, Seen: []uint64{3, 4}}
	if err := SaveCursor(path, c); err != nil {
		t.Fatal(err)
	}
	got, ok, err := LoadCursor(path)
	if err != nil || !ok || got.Time != 42 || !reflect.DeepEqual(got.Seen, c.Seen) {
		t.Errorf("LoadCursor = %+v, %v, %v", got, ok, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("SaveCursor left %d files, want 1", len(entries))
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadCursor(path); err == nil || !strings.Contains(err.Error(), "remove it to start from the configured start") {
		t.Errorf("LoadCursor of a bad file = %v", err)
	}
	if err := SaveCursor(filepath.Join(t.TempDir(), "missing", "cursor"), c); err == nil {
		t.Error("SaveCursor into a missing directory succeeded")
	}
}
