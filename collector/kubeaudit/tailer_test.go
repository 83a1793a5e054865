package kubeaudit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// logLines are the lines of audit-log.jsonl, each with its newline.
func logLines(t *testing.T) [][]byte {
	t.Helper()
	b := readFixture(t, "audit-log.jsonl")
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) != 10 {
		t.Fatalf("audit-log.jsonl has %d lines, the test knows 10", len(lines))
	}
	return lines
}

// tailHarness is a LogTailer over a log in a temporary directory, stepped
// by poll (no timers).
type tailHarness struct {
	t        *testing.T
	dir      string
	log      string
	stateDir string
	cfg      Config
	p        *Processor
	clk      *fakeClock
	sink     *recSink
	tl       *LogTailer
}

func newTailHarness(t *testing.T, tune func(*Config)) *tailHarness {
	dir := t.TempDir()
	h := &tailHarness{t: t, dir: dir, log: filepath.Join(dir, "audit.log"), stateDir: filepath.Join(dir, "state")}
	h.cfg = Config{LogPath: h.log, StateDir: h.stateDir, Cluster: testCluster}
	if tune != nil {
		tune(&h.cfg)
	}
	h.restart()
	return h
}

// restart makes a new Processor and tailer (a collector restart) on the
// same state directory.
func (h *tailHarness) restart() {
	h.t.Helper()
	if h.tl != nil {
		h.tl.close()
	}
	h.sink = newRecSink()
	h.p, h.clk, _ = newTestProcessor(h.t, h.cfg, h.sink, nil)
	tl, err := NewLogTailer(h.cfg, h.p)
	if err != nil {
		h.t.Fatal(err)
	}
	h.tl = tl
	h.t.Cleanup(tl.close)
}

func (h *tailHarness) poll() {
	h.t.Helper()
	if err := h.tl.poll(context.Background()); err != nil {
		h.t.Fatalf("poll: %v", err)
	}
}

// write appends to a file of the log's directory.
func (h *tailHarness) write(name string, parts ...[]byte) {
	h.t.Helper()
	f, err := os.OpenFile(filepath.Join(h.dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	for _, p := range parts {
		if _, err := f.Write(p); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *tailHarness) rename(from, to string) {
	h.t.Helper()
	if err := os.Rename(filepath.Join(h.dir, from), filepath.Join(h.dir, to)); err != nil {
		h.t.Fatal(err)
	}
}

// expire lets the hold of the attach (which never ends) expire.
func (h *tailHarness) expire() {
	h.t.Helper()
	h.clk.Advance(DefaultHold)
	if err := h.p.releaseHeld(context.Background(), false); err != nil {
		h.t.Fatal(err)
	}
}

func (h *tailHarness) received() float64 { return counter(h.p.m.received.WithLabelValues("log")) }

// TestTailerFixtureRotation: every line of audit-log.jsonl through the
// tailer, rotated by rename mid-file, with a line split across two writes
// and lines written to the old file after the last poll: the records the
// README describes, each once.
func TestTailerFixtureRotation(t *testing.T) {
	lines := logLines(t)
	h := newTailHarness(t, nil)
	h.poll() // no log yet: waits
	half := len(lines[4]) / 2
	h.write("audit.log", bytes.Join(lines[:4], nil), lines[4][:half])
	h.poll()
	if got := h.received(); got != 4 {
		t.Fatalf("after the first poll: %v events, want 4 (the split line waits)", got)
	}
	// The writer finishes line 4, writes line 5, and rotates: the old file
	// must be read to its end before the new one.
	h.write("audit.log", lines[4][half:], lines[5])
	h.rename("audit.log", "audit-2026-11-26T10-10-00.000.log")
	h.poll() // renamed away, new file not there yet
	h.write("audit.log", bytes.Join(lines[6:], nil))
	h.poll()
	h.poll()
	if got := h.received(); got != 10 {
		t.Errorf("%v events received, want 10", got)
	}
	if got := counter(h.p.m.rotations.WithLabelValues("rename")); got != 1 {
		t.Errorf("rotations{rename} = %v, want 1", got)
	}
	h.expire()
	assertRecords(t, h.sink.records(), fixtureRecords(t))
	if got := sumMalformed(h.p.m, ViaLog); got != 0 {
		t.Errorf("malformed = %v, want 0", got)
	}
}

// TestTailerCopytruncate: a log truncated in place is read again from its
// start, whether it is now shorter or already longer than the position.
func TestTailerCopytruncate(t *testing.T) {
	lines := logLines(t)
	for _, tc := range []struct {
		name        string
		first, then [][]byte
	}{
		{"regrown shorter", lines[:5], lines[5:7]},
		{"regrown longer", lines[:2], lines[2:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newTailHarness(t, nil)
			h.write("audit.log", bytes.Join(tc.first, nil))
			h.poll()
			h.write("audit.log.1", bytes.Join(tc.first, nil)) // the copy
			if err := os.Truncate(h.log, 0); err != nil {
				t.Fatal(err)
			}
			h.write("audit.log", bytes.Join(tc.then, nil))
			h.poll()
			if got, want := h.received(), float64(len(tc.first)+len(tc.then)); got != want {
				t.Errorf("%v events received, want %v", got, want)
			}
			if got := counter(h.p.m.rotations.WithLabelValues("truncate")); got != 1 {
				t.Errorf("rotations{truncate} = %v, want 1", got)
			}
			if got := sumMalformed(h.p.m, ViaLog); got != 0 {
				t.Errorf("malformed = %v, want 0 (a line read from its middle?)", got)
			}
		})
	}
}

// TestTailerRestart: a restarted tailer resumes at its saved position,
// neither repeating nor losing lines, also when the log rotated while it
// was stopped.
func TestTailerRestart(t *testing.T) {
	lines := logLines(t)
	t.Run("same file", func(t *testing.T) {
		h := newTailHarness(t, nil)
		h.write("audit.log", bytes.Join(lines[:5], nil))
		h.poll()
		first := h.sink.records()
		h.restart()
		h.write("audit.log", bytes.Join(lines[5:], nil))
		h.poll()
		if got := h.received(); got != 5 {
			t.Errorf("restarted tailer received %v events, want the 5 new ones", got)
		}
		h.expire()
		assertRecords(t, append(first, h.sink.records()...), fixtureRecords(t))
	})
	t.Run("rotated while stopped", func(t *testing.T) {
		h := newTailHarness(t, nil)
		h.write("audit.log", bytes.Join(lines[:3], nil))
		h.poll()
		first := h.sink.records()
		h.tl.close()
		h.write("audit.log", bytes.Join(lines[3:6], nil))
		h.rename("audit.log", "audit-old.log")
		h.write("audit.log", bytes.Join(lines[6:], nil))
		h.restart()
		h.poll()
		h.poll()
		if got := h.received(); got != 7 {
			t.Errorf("restarted tailer received %v events, want 7", got)
		}
		h.expire()
		assertRecords(t, append(first, h.sink.records()...), fixtureRecords(t))
	})
	t.Run("rotated file gone", func(t *testing.T) {
		h := newTailHarness(t, nil)
		h.write("audit.log", bytes.Join(lines[:3], nil))
		h.poll()
		h.tl.close()
		h.write("audit.log.new", bytes.Join(lines[3:], nil)) // created first: another inode
		if err := os.Remove(h.log); err != nil {
			t.Fatal(err)
		}
		h.rename("audit.log.new", "audit.log")
		h.restart()
		h.poll()
		if got := h.received(); got != 7 {
			t.Errorf("received %v events, want 7", got)
		}
		if got := counter(h.p.m.rotations.WithLabelValues("missed")); got != 1 {
			t.Errorf("rotations{missed} = %v, want 1", got)
		}
	})
	t.Run("replaced, inode maybe reused", func(t *testing.T) {
		// The new file may get the old one's inode: the bytes before the
		// position tell them apart.
		h := newTailHarness(t, nil)
		h.write("audit.log", bytes.Join(lines[:3], nil))
		h.poll()
		h.tl.close()
		if err := os.Remove(h.log); err != nil {
			t.Fatal(err)
		}
		h.write("audit.log", bytes.Join(lines[3:], nil))
		h.restart()
		h.poll()
		if got := h.received(); got != 7 {
			t.Errorf("received %v events, want 7", got)
		}
		if got := sumMalformed(h.p.m, ViaLog); got != 0 {
			t.Errorf("malformed = %v, want 0 (read from the old position?)", got)
		}
	})
}

// TestTailerMalformed: malformed lines are counted by reason and skipped,
// the lines around them kept; a line longer than the read buffer is read
// whole, one longer than MaxBodyBytes is skipped to its end.
func TestTailerMalformed(t *testing.T) {
	lines := logLines(t)
	const maxLine = 200 << 10
	h := newTailHarness(t, func(c *Config) { c.MaxBodyBytes = maxLine })
	// A valid 100 KiB line (longer than the first read buffer).
	long := bytes.Replace(lines[7], []byte(`"userAgent":"kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0"`),
		[]byte(`"userAgent":"`+strings.Repeat("x", 100<<10)+`"`), 1)
	if bytes.Equal(long, lines[7]) {
		t.Fatal("the test's userAgent is not in line 7")
	}
	tooLong := append(bytes.Repeat([]byte("y"), maxLine+10), '\n')
	h.write("audit.log",
		lines[5],
		[]byte("this is not json\n"),
		[]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete"}`+"\n"),
		[]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","auditID":"x","stage":"ResponseComplete"}`+"\n"),
		[]byte("\n   \n"),
		tooLong[:maxLine/2], // written in two parts: read across polls
	)
	h.poll()
	h.write("audit.log", tooLong[maxLine/2:], long, lines[9])
	h.poll()
	for reason, want := range map[string]float64{ReasonJSON: 1, ReasonInvalid: 1, ReasonKind: 1, ReasonTooLarge: 1, ReasonEmpty: 0} {
		if got := counter(h.p.m.malformed.WithLabelValues("log", reason)); got != want {
			t.Errorf("malformed{log,%s} = %v, want %v", reason, got, want)
		}
	}
	if got := h.received(); got != 3 {
		t.Errorf("%v events received, want 3", got)
	}
	recs := h.sink.records()
	if len(recs) != 2 || recs[0].AuditID != "9a9a9a9a-1234-4567-89ab-222222222222" || recs[1].AuditID != "6c6c6c6c-dddd-eeee-ffff-444444444444" {
		t.Fatalf("records %v, want the 403 exec and the debug", recs)
	}
	if len(recs[1].UserAgent) != 100<<10 {
		t.Errorf("long line's userAgent has %d bytes", len(recs[1].UserAgent))
	}
}

// TestTailerSinkFailure: lines whose records the sink refused are read
// again; the position does not move past them.
func TestTailerSinkFailure(t *testing.T) {
	lines := logLines(t)
	h := newTailHarness(t, nil)
	h.sink.failNext = 1
	h.write("audit.log", bytes.Join(lines, nil))
	if err := h.tl.poll(context.Background()); err == nil {
		t.Fatal("poll with a failing sink: no error")
	}
	h.poll()
	h.expire()
	assertRecords(t, h.sink.records(), fixtureRecords(t))
	pos, ok, err := loadPosition(h.stateDir)
	if err != nil || !ok {
		t.Fatalf("position: %v %v", ok, err)
	}
	if size := int64(len(bytes.Join(lines, nil))); pos.Offset != size {
		t.Errorf("saved offset %d, want %d (the end)", pos.Offset, size)
	}
}

// TestLogTailerRun: Run follows the log on its own timer across a rotation
// and returns when ctx is done.
func TestLogTailerRun(t *testing.T) {
	lines := logLines(t)
	h := newTailHarness(t, func(c *Config) { c.PollInterval = 5 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.tl.Run(ctx) }()
	h.write("audit.log", bytes.Join(lines[:5], nil))
	h.sink.waitFor(t, 2)
	h.rename("audit.log", "audit.log.1")
	h.write("audit.log", bytes.Join(lines[5:], nil))
	h.sink.waitFor(t, 4)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	h.expire()
	assertRecords(t, h.sink.records(), fixtureRecords(t))
}

// TestCaptureRun: Capture runs the configured inputs and, when stopped,
// emits what was still held.
func TestCaptureRun(t *testing.T) {
	lines := logLines(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(log, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	sink := newRecSink()
	c, err := New(Config{LogPath: log, StateDir: filepath.Join(dir, "state"), Cluster: testCluster, Hold: time.Hour, PollInterval: 5 * time.Millisecond}, sink, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Webhook != nil {
		t.Error("a webhook without --audit-webhook")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	sink.waitFor(t, 4)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	assertRecords(t, sink.records(), fixtureRecords(t))

	if _, err := New(Config{}, sink, nil, nil); err == nil {
		t.Error("New without inputs: no error")
	}
}

func TestPositionFile(t *testing.T) {
	dir := t.TempDir()
	want := position{File: fileID{Dev: 1, Ino: 2}, Offset: 100, Tail: []byte("abc\n"), Skipping: true}
	if err := savePosition(dir, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := loadPosition(dir)
	if err != nil || !ok || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("loadPosition = %+v %v %v, want %+v", got, ok, err, want)
	}
	for _, bad := range []string{"{", `{"offset":-1}`, `{"offset":2,"tail":"YWJjZA=="}`} {
		if err := os.WriteFile(filepath.Join(dir, positionFile), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := loadPosition(dir); err == nil {
			t.Errorf("loadPosition(%s): no error", bad)
		}
	}
}
