package storage

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	code := m.Run()
	cleanupDataset()
	os.Exit(code)
}

var testMeta = Options{
	IndexedMetadata: []string{"session", "exec_id"},
	GroupMetadata:   []string{"pod", "container", "container_id"},
}

// openTest opens a DB in dir with the test metadata settings.
func openTest(t testing.TB, dir string) *DB {
	t.Helper()
	o := testMeta
	o.Dir = dir
	db, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

// rec is an entry as a test compares it.
type rec struct {
	Stream uint32
	Time   int64
	Line   string
	Meta   string
}

// scanAll runs a Scan and copies its hits.
func scanAll(t testing.TB, db *DB, q ScanQuery) []rec {
	t.Helper()
	var out []rec
	err := db.Scan(context.Background(), q, func(h Hit) bool {
		// Hit.Line may alias Pebble's buffers: copy it.
		out = append(out, rec{h.Stream, h.Time, strings.Clone(h.Line), h.Metadata.String()})
		return true
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

func labels(kv ...string) stream.Labels {
	var ls stream.Labels
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, stream.Label{Name: kv[i], Value: kv[i+1]})
	}
	ls.Sort()
	return ls
}

func mustAppend(t testing.TB, db *DB, ss ...stream.Stream) int {
	t.Helper()
	n, err := db.Append(ss)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return n
}
