package spool

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The kill test re-executes the test binary as a child that appends (and
// maybe acknowledges) numbered entries, reporting each on stdout once the
// call returned, until the parent kills it with SIGKILL.
const (
	childDirEnv  = "SPOOL_TEST_CHILD_DIR"
	childModeEnv = "SPOOL_TEST_CHILD_MODE"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		if err := runChild(dir, os.Getenv(childModeEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func killOptions(dir string) Options {
	return Options{Dir: dir, SegmentBytes: 64 << 10, MaxBytes: 1 << 30, SyncInterval: 10 * time.Millisecond}
}

// runChild appends entries 0, 1, ... in calls of 1 to 50, printing
// "append N" after each call; in mode "ack" it also reads and acknowledges
// them, printing "ack N" (the last entry acknowledged) after each Ack.
func runChild(dir, mode string) error {
	s, err := Open(killOptions(dir))
	if err != nil {
		return err
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format, args...)
		out.Flush()
	}
	if mode == "ack" {
		go func() {
			for {
				b, err := s.Read(context.Background(), 200, 1<<20, time.Hour)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child read:", err)
					os.Exit(2)
				}
				last, _ := strconv.Atoi(string(b.Entries[len(b.Entries)-1][:8]))
				if err := s.Ack(b); err != nil {
					fmt.Fprintln(os.Stderr, "child ack:", err)
					os.Exit(2)
				}
				report("ack %d\n", last)
			}
		}()
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; ; {
		n := 1 + rnd.IntN(50)
		es := make([][]byte, n)
		for j := range es {
			es[j] = entry(i+j, 300+rnd.IntN(1200))
		}
		if err := s.Append(context.Background(), es...); err != nil {
			return err
		}
		i += n
		report("append %d\n", i-1)
	}
}

func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	tests := []struct {
		name string
		mode string
	}{
		{name: "append only", mode: "append"},
		{name: "append and ack", mode: "ack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childModeEnv+"="+tt.mode)
			cmd.Stderr = os.Stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			appended, acked := -1, -1
			killed := false
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				what, num, _ := strings.Cut(sc.Text(), " ")
				n, err := strconv.Atoi(num)
				if err != nil {
					t.Fatalf("child said %q", sc.Text())
				}
				switch what {
				case "append":
					appended = n
				case "ack":
					acked = max(acked, n)
				}
				if !killed && appended >= 30000 {
					if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
					killed = true // lines already written still count
				}
			}
			err = cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child ended with %v, not by SIGKILL", err)
			}

			s := open(t, killOptions(dir))
			st := s.Stats()
			if st.Corrupt > 1 {
				t.Errorf("corruption beyond a torn tail: %+v", st)
			}
			got := numbers(t, readAll(t, s))
			if int64(len(got)) != st.Entries {
				t.Errorf("stats say %d entries, read %d", st.Entries, len(got))
			}
			t.Logf("child reported %d appended, %d acked; replayed %d entries, corrupt %d (%d bytes)",
				appended+1, acked+1, len(got), st.Corrupt, st.CorruptBytes)
			for i := 1; i < len(got); i++ {
				if got[i] != got[i-1]+1 {
					t.Fatalf("replay has %d after %d", got[i], got[i-1])
				}
			}
			first := appended + 1 // with nothing replayed
			if len(got) > 0 {
				first = got[0]
			}
			switch {
			case tt.mode == "append" && first != 0:
				t.Fatalf("replay starts at %d, nothing was acknowledged", first)
			case first <= acked:
				t.Fatalf("replay starts at %d, %d was acknowledged", first, acked)
			case first <= appended && got[len(got)-1] < appended:
				t.Fatalf("replay ends at %d, %d was appended", got[len(got)-1], appended)
			}
		})
	}
}
