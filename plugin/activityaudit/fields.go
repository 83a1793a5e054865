package activityaudit

//go:generate go run ./internal/fieldgen -o fields_gen.go

import (
	"fmt"
	"strings"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
)

// FieldPrefix starts every field name the plugin declares.
const FieldPrefix = "activity."

// Names of the fields that are not record fields.
const (
	LinkField      = FieldPrefix + "link"
	TraceLinkField = FieldPrefix + "trace_link"
)

// accessor reads one registry field of a record; exactly one of str, num
// and flag is set (fields_gen.go).
type accessor struct {
	name string
	str  func(*record.Record) string
	num  func(*record.Record) uint64
	flag func(*record.Record) bool
}

// falcoField is one field of the plugin's table: what plugin_get_fields
// declares and how Extract fills it. A field's id is its index in the table.
type falcoField struct {
	entry   sdk.FieldEntry
	extract func(p *Plugin, ev *event, req sdk.ExtractRequest) error
}

// fieldTable is every field the plugin declares: the registry's, in
// registry order, then the links.
var fieldTable = buildFieldTable()

func buildFieldTable() []falcoField {
	reg := field.All()
	if len(reg) != len(accessors) {
		panic(fmt.Sprintf("activityaudit: %d registry fields, %d accessors: run go generate ./plugin/activityaudit", len(reg), len(accessors)))
	}
	table := make([]falcoField, 0, len(reg)+2)
	for i, f := range reg {
		a := accessors[i]
		if a.name != f.Name {
			panic(fmt.Sprintf("activityaudit: accessor %d is %s, registry field is %s: run go generate ./plugin/activityaudit", i, a.name, f.Name))
		}
		table = append(table, falcoField{entry: recordEntry(f, a), extract: recordExtractor(f, a)})
	}
	table = append(table,
		falcoField{
			entry: sdk.FieldEntry{Name: LinkField, Type: "string", Display: "Audit link",
				Desc: "Link to the Activity Audit app: the audit view of what the event belongs to (its exec session, else its pod, container or host) around it; for a k8s_audit exec or attach request, the target pod over the request"},
			extract: func(p *Plugin, ev *event, req sdk.ExtractRequest) error { return p.extractLink(ev, req, false) },
		},
		falcoField{
			entry: sdk.FieldEntry{Name: TraceLinkField, Type: "string", Display: "Trace link",
				Desc: "Link to the Activity Audit app: the trace of the event's exec session (for a kube exec request, or a k8s_audit exec or attach request, by its audit ID); no value outside a session"},
			extract: func(p *Plugin, ev *event, req sdk.ExtractRequest) error { return p.extractLink(ev, req, true) },
		},
	)
	return table
}

// falcoType is the Falco field type of a registry type: numbers (and the
// time, in Unix nanoseconds) as uint64, strings as strings.
func falcoType(t field.Type) string {
	switch t {
	case field.Uint, field.Time:
		return "uint64"
	case field.Bool:
		return "bool"
	}
	return "string"
}

func recordEntry(f field.Field, a accessor) sdk.FieldEntry {
	desc := f.Description
	if f.Type == field.Time {
		desc += ", in Unix nanoseconds"
	}
	srcs := make([]string, len(f.Sources))
	for i, s := range f.Sources {
		srcs[i] = string(s)
	}
	desc += ". Sources: " + strings.Join(srcs, ", ")
	return sdk.FieldEntry{
		Name:    FieldPrefix + f.Name,
		Type:    falcoType(f.Type),
		Display: display(f.Name),
		Desc:    desc,
	}
}

// display turns a field name into a label: session_entry → "Session entry".
func display(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// recordExtractor extracts a registry field from one of our events. A field
// has a value on the sources it applies to (empty strings and zeros
// included, so `activity.tty = ""` holds for a command without a terminal)
// and, elsewhere, when it is set; k8s_audit events have none.
func recordExtractor(f field.Field, a accessor) func(*Plugin, *event, sdk.ExtractRequest) error {
	appliesTo := f.AppliesTo
	switch {
	case a.str != nil:
		return func(p *Plugin, ev *event, req sdk.ExtractRequest) error {
			r := ev.rec()
			if r == nil {
				return nil
			}
			if v := a.str(r); v != "" || appliesTo(r.Source) {
				req.SetValue(v)
			}
			return nil
		}
	case a.num != nil:
		always := f.Type == field.Time
		return func(p *Plugin, ev *event, req sdk.ExtractRequest) error {
			r := ev.rec()
			if r == nil {
				return nil
			}
			if v := a.num(r); v != 0 || always || appliesTo(r.Source) {
				req.SetValue(v)
			}
			return nil
		}
	case a.flag != nil:
		return func(p *Plugin, ev *event, req sdk.ExtractRequest) error {
			r := ev.rec()
			if r == nil {
				return nil
			}
			if v := a.flag(r); v || appliesTo(r.Source) {
				req.SetValue(v)
			}
			return nil
		}
	}
	panic("activityaudit: accessor " + a.name + " reads nothing")
}

// Fields returns the field table as plugin_get_fields declares it.
func Fields() []sdk.FieldEntry {
	entries := make([]sdk.FieldEntry, len(fieldTable))
	for i, f := range fieldTable {
		entries[i] = f.entry
	}
	return entries
}

// AppendPayload appends the event payload of a record, as the source writes
// it into a Falco event.
func AppendPayload(b []byte, r *record.Record) []byte { return appendPayload(b, r) }
