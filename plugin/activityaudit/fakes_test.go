package activityaudit

import (
	"bytes"
	"io"
	"log"
	"strconv"
	"unsafe"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
)

// fakeRequest is an sdk.ExtractRequest that remembers the value set.
type fakeRequest struct {
	id    uint64
	ftype uint32
	name  string
	set   bool
	value any
}

func (r *fakeRequest) FieldID() uint64                       { return r.id }
func (r *fakeRequest) FieldType() uint32                     { return r.ftype }
func (r *fakeRequest) Field() string                         { return r.name }
func (r *fakeRequest) ArgKey() string                        { return "" }
func (r *fakeRequest) ArgIndex() uint64                      { return 0 }
func (r *fakeRequest) ArgPresent() bool                      { return false }
func (r *fakeRequest) IsList() bool                          { return false }
func (r *fakeRequest) SetValue(v any)                        { r.set, r.value = true, v }
func (r *fakeRequest) SetValueOffset(start, length uint32)   {}
func (r *fakeRequest) SetPtr(unsafe.Pointer)                 {}
func (r *fakeRequest) SetOffsetPtrs(start, l unsafe.Pointer) {}
func (r *fakeRequest) WantOffset() bool                      { return false }

func (r *fakeRequest) reset() { r.set, r.value = false, nil }

// fakeEvent is an sdk.EventReader over a payload.
type fakeEvent struct {
	num, ts uint64
	data    []byte
}

func (e *fakeEvent) EventNum() uint64      { return e.num }
func (e *fakeEvent) Timestamp() uint64     { return e.ts }
func (e *fakeEvent) Reader() io.ReadSeeker { return bytes.NewReader(e.data) }

// requestFor is a request for the field named name.
func requestFor(name string) *fakeRequest {
	for i, f := range fieldTable {
		if f.entry.Name == name {
			t := uint32(sdk.FieldTypeCharBuf)
			switch f.entry.Type {
			case "uint64":
				t = sdk.FieldTypeUint64
			case "bool":
				t = sdk.FieldTypeBool
			}
			return &fakeRequest{id: uint64(i), ftype: t, name: name}
		}
	}
	panic("no field " + name)
}

// want is what a field of a record must extract to, from the record's
// text as Loki shows it: a number or boolean Loki would not show has no
// value unless the field applies to the record's source; a string has one
// when set or when the field applies.
func want(r *record.Record, f field.Field) (present bool, value any) {
	text, _ := r.Text(f.Name)
	switch f.Type {
	case field.Time:
		return true, uint64(r.Time)
	case field.Uint:
		if text == "" {
			return false, nil
		}
		u, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			panic(err)
		}
		return true, u
	case field.Bool:
		if text == "true" {
			return true, true
		}
		return f.AppliesTo(r.Source), false
	}
	return text != "" || f.AppliesTo(r.Source), text
}

func testPlugin(config string) *Plugin {
	p := New()
	p.log = log.New(io.Discard, "", 0)
	if err := p.Init(config); err != nil {
		panic(err)
	}
	return p
}
