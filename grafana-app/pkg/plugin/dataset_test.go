package plugin_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/store/storetest"
)

// datasetEntry is one entry of dataset.json, read independently of the
// code under test: the expectations are counted from it.
type datasetEntry struct {
	time   int64
	labels map[string]string
	meta   map[string]string
	body   map[string]string
}

func (e datasetEntry) get(name string) string {
	if v, ok := e.labels[name]; ok {
		return v
	}
	if v, ok := e.meta[name]; ok {
		return v
	}
	return e.body[name]
}

var (
	datasetOnce    sync.Once
	datasetEntries []datasetEntry
)

func readDataset(t testing.TB) []datasetEntry {
	t.Helper()
	datasetOnce.Do(func() {
		b, err := os.ReadFile(datasetPath)
		if err != nil {
			t.Fatal(err)
		}
		var push struct {
			Streams []struct {
				Stream map[string]string `json:"stream"`
				Values [][]json.RawMessage
			} `json:"streams"`
		}
		if err := json.Unmarshal(b, &push); err != nil {
			t.Fatal(err)
		}
		for _, s := range push.Streams {
			for _, v := range s.Values {
				var ts string
				if err := json.Unmarshal(v[0], &ts); err != nil {
					t.Fatal(err)
				}
				n, err := strconv.ParseInt(ts, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				var line string
				if err := json.Unmarshal(v[1], &line); err != nil {
					t.Fatal(err)
				}
				var body map[string]any
				if err := json.Unmarshal([]byte(line), &body); err != nil {
					t.Fatal(err)
				}
				e := datasetEntry{time: n, labels: s.Stream, meta: map[string]string{}, body: map[string]string{}}
				for k, v := range body {
					e.body[k] = fmt.Sprint(v)
				}
				if len(v) > 2 {
					if err := json.Unmarshal(v[2], &e.meta); err != nil {
						t.Fatal(err)
					}
				}
				datasetEntries = append(datasetEntries, e)
			}
		}
	})
	if len(datasetEntries) != 95 {
		t.Fatalf("dataset.json: %d entries, its README says 95", len(datasetEntries))
	}
	return datasetEntries
}

// datasetStore runs the embedded store seeded with dataset.json as Loki's
// push API receives it.
func datasetStore(t testing.TB) string {
	t.Helper()
	base := storetest.Start(t, nil)
	pushFile(t, base, datasetPath)
	return base
}
