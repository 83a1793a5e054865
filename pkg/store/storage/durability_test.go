package storage

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// crashChildEnv makes the test binary run crashChild instead of the tests:
// TestDurabilityAfterKill re-executes itself with it.
const crashChildEnv = "STORAGE_CRASH_CHILD_DIR"

const crashBatchLen = 200

// crashBatch is batch i of the child: 200 entries in three streams.
func crashBatch(i int) []stream.Stream {
	ss := make([]stream.Stream, 3)
	for j := range ss {
		ss[j].Labels = labels("job", "crash", "part", strconv.Itoa(j))
	}
	for j := range crashBatchLen {
		s := &ss[j%3]
		s.Entries = append(s.Entries, stream.Entry{
			Time:     int64(i)*1000 + int64(j),
			Line:     fmt.Sprintf("batch %d entry %d %s", i, j, strings.Repeat("x", 200)),
			Metadata: labels("session", "s"+strconv.Itoa(i), "pod", "p"+strconv.Itoa(j%5)),
		})
	}
	return ss
}

// crashChild appends batches forever, printing the number of each one
// Append acknowledged, until it is killed.
func crashChild() {
	o := testMeta
	o.Dir = os.Getenv(crashChildEnv)
	db, err := Open(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		if _, err := db.Append(crashBatch(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Printf("ack %d\n", i)
	}
}

func TestDurabilityAfterKill(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 40
	acked := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "ack "))
		if err != nil || n != acked+1 {
			t.Fatalf("child said %q after ack %d", sc.Text(), acked)
		}
		acked = n
		if acked == killAfter {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not SIGKILL; stderr:\n%s", err, stderr.String())
	}
	if acked < killAfter {
		t.Fatalf("child acknowledged %d batches only; stderr:\n%s", acked+1, stderr.String())
	}

	db := openTest(t, dir)
	defer db.Close()
	perBatch := map[int]int{}
	err = db.Scan(context.Background(), ScanQuery{From: 0, Through: 1 << 62}, func(h Hit) bool {
		n, _ := strconv.Atoi(strings.Fields(h.Line)[1])
		perBatch[n]++
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := 0; i <= acked+1; i++ {
		n := perBatch[i]
		total += n
		switch {
		case i <= acked && n != crashBatchLen:
			t.Errorf("acknowledged batch %d: %d of %d entries after the kill", i, n, crashBatchLen)
		case i > acked && n != 0 && n != crashBatchLen:
			t.Errorf("batch %d in flight at the kill: %d entries, want all or none", i, n)
		}
	}
	if len(perBatch) > acked+2 {
		t.Errorf("%d batches found, at most %d were appended", len(perBatch), acked+2)
	}
	if st := db.Stats(); st.Entries != int64(total) {
		t.Errorf("Stats.Entries = %d, scan found %d", st.Entries, total)
	}
	if got := len(scanAll(t, db, ScanQuery{From: 0, Through: 1 << 62, Metadata: &stream.Label{Name: "session", Value: "s" + strconv.Itoa(acked)}})); got != crashBatchLen {
		t.Errorf("index: %d entries of the last acknowledged batch", got)
	}
}
