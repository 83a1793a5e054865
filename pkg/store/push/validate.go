package push

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// Messages, worded as Loki's distributor words them (pkg/validation).
const (
	msgMissingLabels      = "error at least one label pair is required per stream"
	msgInvalidLabels      = "error parsing labels '%s' with error: %s"
	msgTooManyLabels      = "entry for stream '%s' has %d label names; limit %d"
	msgLabelNameTooLong   = "stream '%s' has label name too long: '%s'"
	msgLabelValueTooLong  = "stream '%s' has label value too long: '%s'"
	msgDuplicateLabel     = "stream '%s' has duplicate label name: '%s'"
	msgLineTooLong        = "max entry size '%d' bytes exceeded for stream '%s' while adding an entry with length '%d' bytes"
	msgTooNew             = "entry for stream '%s' has timestamp too new: %v"
	msgInvalidMetadata    = "stream '%s' has invalid structured metadata name: '%s'"
	msgMetadataTooLong    = "stream '%s' has structured metadata name too long: '%s'"
	msgDuplicateMetadata  = "stream '%s' has duplicate structured metadata name: '%s'"
	msgInvalidLabelName   = "invalid label name %q"
	msgInvalidLabelValue  = "invalid UTF-8 in value of label %q"
	labelServiceName      = "service_name"
	maxQuotedInMsg        = 256 // longest name or value quoted in a message
	maxLabelStringInError = 1024
)

// validName reports whether s is a valid label name: [a-zA-Z_][a-zA-Z0-9_]*.
func validName[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// validateLabels checks a sorted stream label set without empty values, in
// the order Loki does: syntax (names, UTF-8 values), then the label count,
// then each label's name and value length and duplicates.
func (b *builder) validateLabels(ls stream.Labels) error {
	for _, l := range ls {
		if !validName(l.Name) {
			return invalidf(msgInvalidLabels, clip(ls.String(), maxLabelStringInError), errText(msgInvalidLabelName, l.Name))
		}
		if !utf8.ValidString(l.Value) {
			return invalidf(msgInvalidLabels, clip(ls.String(), maxLabelStringInError), errText(msgInvalidLabelValue, l.Name))
		}
	}
	// Loki does not count service_name, a label it may add itself.
	n := len(ls)
	if ls.Has(labelServiceName) {
		n--
	}
	if n > b.lim.MaxLabelsPerStream {
		return invalidf(msgTooManyLabels, clip(ls.String(), maxLabelStringInError), n, b.lim.MaxLabelsPerStream)
	}
	for i, l := range ls {
		switch {
		case len(l.Name) > b.lim.MaxLabelNameLen:
			return invalidf(msgLabelNameTooLong, clip(ls.String(), maxLabelStringInError), clip(l.Name, maxQuotedInMsg))
		case len(l.Value) > b.lim.MaxLabelValueLen:
			return invalidf(msgLabelValueTooLong, clip(ls.String(), maxLabelStringInError), clip(l.Value, maxQuotedInMsg))
		case i > 0 && l.Name == ls[i-1].Name:
			return invalidf(msgDuplicateLabel, clip(ls.String(), maxLabelStringInError), l.Name)
		}
	}
	return nil
}

// validateEntry checks an entry's line length and timestamp.
func (b *builder) validateEntry(si int, ts int64, lineLen int) error {
	if lineLen > b.lim.MaxLineBytes {
		return invalidf(msgLineTooLong, b.lim.MaxLineBytes, b.streams[si].Labels, lineLen)
	}
	if ts > b.maxTime {
		return invalidf(msgTooNew, b.streams[si].Labels, time.Unix(0, ts).UTC().Format(time.RFC3339))
	}
	return nil
}

// validateMetadataName checks a structured-metadata name seen for the
// first time.
func (b *builder) validateMetadataName(si int, name []byte) error {
	if len(name) > b.lim.MaxLabelNameLen {
		return invalidf(msgMetadataTooLong, b.streams[si].Labels, clip(string(name), maxQuotedInMsg))
	}
	if !validName(name) {
		return invalidf(msgInvalidMetadata, b.streams[si].Labels, clip(string(name), maxQuotedInMsg))
	}
	return nil
}

// errText formats the detail of a message.
func errText(format, arg string) string {
	return fmt.Sprintf(format, clip(arg, maxQuotedInMsg))
}

// clip shortens s for a message, keeping it valid UTF-8 where it was.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
