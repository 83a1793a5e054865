package ship

import (
	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// encodeRequest builds the snappy-compressed protobuf push request Loki's
// /loki/api/v1/push takes: one stream per label set (external labels
// merged in; a record's own label wins), entries in order.
func encodeRequest(entries []record.Entry, external []record.Pair) ([]byte, error) {
	var req push.PushRequest
	index := map[string]int{}
	var merged []record.Pair
	for i := range entries {
		e := &entries[i]
		merged = mergeLabels(merged[:0], e.Labels, external)
		key := record.LabelString(merged)
		si, ok := index[key]
		if !ok {
			si = len(req.Streams)
			index[key] = si
			req.Streams = append(req.Streams, push.Stream{Labels: key})
		}
		var md push.LabelsAdapter
		if len(e.Metadata) > 0 {
			md = make(push.LabelsAdapter, len(e.Metadata))
			for j, p := range e.Metadata {
				md[j] = push.LabelAdapter{Name: p.Name, Value: p.Value}
			}
		}
		req.Streams[si].Entries = append(req.Streams[si].Entries, push.Entry{
			Timestamp:          timeOf(e.Time),
			Line:               e.Line,
			StructuredMetadata: md,
		})
	}
	raw, err := req.Marshal()
	if err != nil {
		return nil, err
	}
	return snappy.Encode(nil, raw), nil
}

// mergeLabels appends the sorted union of labels (sorted) and external
// (sorted) to dst; on equal names labels win.
func mergeLabels(dst, labels, external []record.Pair) []record.Pair {
	i, j := 0, 0
	for i < len(labels) || j < len(external) {
		switch {
		case j == len(external) || (i < len(labels) && labels[i].Name < external[j].Name):
			dst = append(dst, labels[i])
			i++
		case i == len(labels) || external[j].Name < labels[i].Name:
			dst = append(dst, external[j])
			j++
		default:
			dst = append(dst, labels[i])
			i++
			j++
		}
	}
	return dst
}
