package kube

import (
	"context"
	"fmt"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/record"
)

type discard struct{}

func (discard) Write(context.Context, *record.Record) error { return nil }

// benchPods is Pods indexing nPods pods of 3 containers each (no informer).
func benchPods(b *testing.B, nPods int) (*Pods, []string) {
	b.Helper()
	p, err := NewPods(newFakeClientset(), PodsOptions{Node: thisNode, Log: quiet})
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := range nPods {
		opts := []podOpt{ownedBy(owner(KindStatefulSet, fmt.Sprint("sts", i%10)))}
		for c := range 3 {
			id := cid(fmt.Sprintf("p%dc%d", i, c))
			ids = append(ids, id)
			opts = append(opts, withContainer(fmt.Sprint("c", c), "img:1", "containerd://"+id))
		}
		p.onPod(newPod("bench", fmt.Sprint("pod-", i), thisNode, opts...))
	}
	return p, ids
}

// BenchmarkEnricherWrite: one record with a known container id through
// the enricher (lookup, scope copy, probe check) to a discarding sink.
func BenchmarkEnricherWrite(b *testing.B) {
	p, ids := benchPods(b, 100)
	e := NewEnricher(p, discard{}, EnricherOptions{})
	ctx := context.Background()
	recs := make([]record.Record, len(ids))
	for i, id := range ids {
		recs[i] = record.Record{Source: "cmd", ContainerID: id, Session: "s", Cmdline: "ls -l"}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := e.Write(ctx, &recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkPodsContainer: the index lookup alone, from all procs.
func BenchmarkPodsContainer(b *testing.B) {
	p, ids := benchPods(b, 100)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := p.Container(ids[i%len(ids)]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}
