package plugin_test

import (
	"os"
	"sync"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/store/storetest"
)

// datasetEntry is one entry of dataset.json, read independently of the
// code under test: the expectations are counted from it.
type datasetEntry = storetest.Entry

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
		datasetEntries = storetest.ReadPushJSON(t, b)
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
