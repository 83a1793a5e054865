package engine

import (
	"errors"
	"strconv"
	"strings"

	"github.com/activityaudit/activityaudit/pkg/jsonscan"
	"github.com/activityaudit/activityaudit/pkg/store/stream"
	"github.com/activityaudit/activityaudit/pkg/store/syntax"
)

// Loki's error labels, set on entries a parser or filter could not handle.
const (
	errorLabel        = "__error__"
	errorDetailsLabel = "__error_details__"
	errJSON           = "JSONParserErr"
	errLabelFilter    = "LabelFilterErr"
)

// entryLabels is what a pipeline knows of one entry: its stream labels,
// its structured metadata and the labels parsers extracted.
type entryLabels struct {
	stream stream.Labels
	meta   stream.Labels
	parsed []stream.Label
}

func (l *entryLabels) reset(streamLabels, meta stream.Labels) {
	l.stream, l.meta, l.parsed = streamLabels, meta, l.parsed[:0]
}

// get returns the value of a label of any category ("" when absent). Parsed
// names never clash with the others (they get _extracted); a metadata name
// equal to a stream label yields the stream label, as in all.
func (l *entryLabels) get(name string) (string, bool) {
	for _, x := range l.stream {
		if x.Name == name {
			return x.Value, true
		}
	}
	for _, x := range l.meta {
		if x.Name == name {
			return x.Value, true
		}
	}
	for i := len(l.parsed) - 1; i >= 0; i-- {
		if l.parsed[i].Name == name {
			return l.parsed[i].Value, true
		}
	}
	return "", false
}

// setParsed adds an extracted label. A name already used by a stream label or
// structured metadata gets the suffix _extracted, as in Loki; a repeated
// parsed name keeps its first value.
func (l *entryLabels) setParsed(name, value string) {
	if l.stream.Has(name) || l.meta.Has(name) {
		name += "_extracted"
	}
	for _, x := range l.parsed {
		if x.Name == name {
			return
		}
	}
	l.parsed = append(l.parsed, stream.Label{Name: name, Value: value})
}

func (l *entryLabels) setError(kind, details string) {
	if _, ok := l.get(errorLabel); ok {
		return
	}
	l.parsed = append(l.parsed, stream.Label{Name: errorLabel, Value: kind}, stream.Label{Name: errorDetailsLabel, Value: details})
}

// parsedLabels returns the parsed labels sorted by name (a copy).
func (l *entryLabels) parsedLabels() stream.Labels {
	if len(l.parsed) == 0 {
		return nil
	}
	out := make(stream.Labels, len(l.parsed))
	copy(out, l.parsed)
	out.Sort()
	return out
}

// all returns every label, merged and sorted: Loki's uncategorized view.
func (l *entryLabels) all() stream.Labels {
	out := make(stream.Labels, 0, len(l.stream)+len(l.meta)+len(l.parsed))
	out = append(out, l.stream...)
	for _, x := range l.meta {
		if !out.Has(x.Name) {
			out = append(out, x)
		}
	}
	for _, x := range l.parsed {
		if !out.Has(x.Name) {
			out = append(out, x)
		}
	}
	out.Sort()
	return out
}

// pipeline runs a log query's stages over entries. It is not safe for
// concurrent use: each scanning goroutine has its own.
type pipeline struct {
	stages []syntax.Stage
	sc     jsonscan.Scanner
	found  []bool
}

// errFound stops a JSON scan once every wanted field is found. A line
// malformed after that point is then not flagged, where Loki would flag it:
// our own lines are always well formed.
var errFound = errors.New("all fields found")

func newPipeline(stages []syntax.Stage) *pipeline { return &pipeline{stages: stages} }

// run reports whether the entry passes, filling l with what the stages extract.
func (p *pipeline) run(line string, l *entryLabels) bool {
	for _, st := range p.stages {
		switch st := st.(type) {
		case *syntax.LineFilter:
			if !st.Matches(line) {
				return false
			}
		case *syntax.JSONStage:
			p.json(line, st, l)
		case *syntax.LabelFilterStage:
			if !p.pred(st.Pred, l) {
				return false
			}
		}
	}
	return true
}

func (p *pipeline) pred(pr syntax.Pred, l *entryLabels) bool {
	switch pr := pr.(type) {
	case *syntax.AndPred:
		return p.pred(pr.Left, l) && p.pred(pr.Right, l)
	case *syntax.OrPred:
		return p.pred(pr.Left, l) || p.pred(pr.Right, l)
	case *syntax.StringPred:
		v, _ := l.get(pr.Matcher.Name)
		return pr.Matcher.Matches(v)
	case *syntax.NumberPred:
		v, _ := l.get(pr.Name)
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			// Loki keeps the entry and marks it.
			l.setError(errLabelFilter, err.Error())
			return true
		}
		switch pr.Op {
		case syntax.Eq:
			return f == pr.Value
		case syntax.Neq:
			return f != pr.Value
		case syntax.Lt:
			return f < pr.Value
		case syntax.Lte:
			return f <= pr.Value
		case syntax.Gt:
			return f > pr.Value
		case syntax.Gte:
			return f >= pr.Value
		}
	}
	return false
}

// json extracts labels from a JSON line: every field (nested objects
// flattened with _, arrays skipped) or the named ones.
func (p *pipeline) json(line string, st *syntax.JSONStage, l *entryLabels) {
	if len(st.Fields) == 0 {
		if err := p.flatten(line, "", l, 0); err != nil {
			l.setError(errJSON, err.Error())
		}
		return
	}
	found := p.found[:0]
	for range st.Fields {
		found = append(found, false)
	}
	p.found = found
	left := len(st.Fields)
	p.sc.Reset(line)
	err := p.sc.Object(func(key string, v jsonscan.Value) error {
		for i, f := range st.Fields {
			if found[i] {
				continue
			}
			if f.Expression == key {
				found[i] = true
				left--
				if v.Kind != jsonscan.Object && v.Kind != jsonscan.Array {
					l.setParsed(f.Label, valueText(v))
				} else {
					l.setParsed(f.Label, v.Text)
				}
			} else if rest, ok := strings.CutPrefix(f.Expression, key+"."); ok && v.Kind == jsonscan.Object {
				if s, ok := lookupPath(v.Text, rest); ok {
					found[i] = true
					left--
					l.setParsed(f.Label, s)
				}
			}
		}
		if left == 0 {
			return errFound // the rest of the line is not needed
		}
		return nil
	})
	if err != nil && err != errFound {
		l.setError(errJSON, err.Error())
		return
	}
	for i, f := range st.Fields {
		if !found[i] {
			l.setParsed(f.Label, "")
		}
	}
}

func lookupPath(obj, path string) (string, bool) {
	key, rest, nested := strings.Cut(path, ".")
	var sc jsonscan.Scanner
	sc.Reset(obj)
	var out string
	var ok bool
	_ = sc.Object(func(k string, v jsonscan.Value) error {
		if ok || k != key {
			return nil
		}
		switch {
		case !nested && v.Kind != jsonscan.Object && v.Kind != jsonscan.Array:
			out, ok = valueText(v), true
		case !nested:
			out, ok = v.Text, true
		case v.Kind == jsonscan.Object:
			out, ok = lookupPath(v.Text, rest)
		}
		return nil
	})
	return out, ok
}

func (p *pipeline) flatten(obj, prefix string, l *entryLabels, depth int) error {
	var sc jsonscan.Scanner
	if depth == 0 {
		sc = p.sc
	}
	sc.Reset(obj)
	err := sc.Object(func(key string, v jsonscan.Value) error {
		name := sanitize(key)
		if prefix != "" {
			name = prefix + "_" + name
		}
		switch v.Kind {
		case jsonscan.Array:
			return nil
		case jsonscan.Object:
			if depth >= 16 {
				return nil
			}
			return p.flatten(v.Text, name, l, depth+1)
		}
		l.setParsed(name, valueText(v))
		return nil
	})
	if depth == 0 {
		p.sc = sc
	}
	return err
}

func valueText(v jsonscan.Value) string {
	switch v.Kind {
	case jsonscan.Bool:
		return strconv.FormatBool(v.Bool)
	case jsonscan.Null:
		return ""
	}
	return v.Text
}

// sanitize makes a JSON key a valid label name, as Loki does.
func sanitize(key string) string {
	ok := key != ""
	for i := 0; i < len(key) && ok; i++ {
		c := key[i]
		ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
	}
	if ok {
		return key
	}
	b := []byte(key)
	for i, c := range b {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			b[i] = '_'
		}
	}
	if len(b) == 0 || (b[0] >= '0' && b[0] <= '9') {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}
