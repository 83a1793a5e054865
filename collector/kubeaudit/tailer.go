package kubeaudit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// minReadBuf is the tailer's first read buffer; it grows (up to
// MaxBodyBytes) for longer lines.
const minReadBuf = 64 << 10

// LogTailer follows the API server's audit log (JSON lines, one
// audit.k8s.io/v1 Event each) by path, across rotation by rename (the
// API server's own --audit-log-maxsize rotation: the old file is read to
// its end, then the new one from its start) and by copytruncate (read again
// from the start). Its position (file identity, offset after the last line
// handed to the sink) is saved in Config.StateDir after every batch, so a
// restart neither loses nor repeats lines. Malformed lines are counted and
// skipped.
type LogTailer struct {
	cfg Config
	p   *Processor
	log *slog.Logger

	resume *position // the saved position, until the file is opened

	f        *os.File
	id       fileID
	off      int64  // after the last line handled
	tail     []byte // up to tailLen bytes before off
	skipping bool   // inside a line over MaxBodyBytes
	saved    position
	buf      []byte
	lastErr  string
}

// NewLogTailer makes the tailer of cfg.LogPath feeding p; it keeps its
// position in cfg.StateDir (created if missing).
func NewLogTailer(cfg Config, p *Processor) (*LogTailer, error) {
	cfg = cfg.withDefaults()
	if p == nil {
		return nil, errors.New("configure audit log tailer: no processor")
	}
	if cfg.LogPath == "" {
		return nil, errors.New("configure audit log tailer: no log path (--audit-log)")
	}
	if cfg.StateDir == "" {
		return nil, errors.New("configure audit log tailer: no state directory for its position")
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create audit log state directory: %w", err)
	}
	t := &LogTailer{cfg: cfg, p: p, log: cfg.Logger}
	pos, ok, err := loadPosition(cfg.StateDir)
	if err != nil {
		// Reading the current file again repeats lines (dropped as
		// duplicates while remembered); guessing an offset could lose them.
		t.log.Warn("audit log: position unreadable, starting at the beginning of the log", "err", err)
	}
	if ok {
		t.resume = &pos
		t.saved = pos
	}
	return t, nil
}

// Run follows the log until ctx is done, polling every cfg.PollInterval.
// A missing log is waited for; read and sink errors are logged and retried.
func (t *LogTailer) Run(ctx context.Context) error {
	defer t.close()
	tick := time.NewTicker(t.cfg.PollInterval)
	defer tick.Stop()
	for {
		err := t.poll(ctx)
		switch {
		case err != nil && err.Error() != t.lastErr:
			t.log.Warn("audit log: follow (retrying)", "path", t.cfg.LogPath, "err", err)
			t.lastErr = err.Error()
		case err == nil:
			t.lastErr = ""
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// poll reads what was appended since the last poll and follows rotation.
func (t *LogTailer) poll(ctx context.Context) error {
	if t.f == nil {
		if err := t.open(); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // not created yet
			}
			return err
		}
	}
	if err := t.checkTruncated(); err != nil {
		return err
	}
	if err := t.readToEnd(ctx, false); err != nil {
		return err
	}
	fi, err := os.Stat(t.cfg.LogPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // renamed away, not recreated yet: the old file may still grow
	}
	if err != nil {
		return fmt.Errorf("stat audit log: %w", err)
	}
	if id, ok := idOf(fi); ok && id == t.id {
		return nil
	}
	// Rotated by rename: the file we hold is complete; finish it (a last line
	// without newline included), then go on with the new one.
	if err := t.readToEnd(ctx, true); err != nil {
		return err
	}
	t.p.m.rotations.WithLabelValues("rename").Inc()
	t.close()
	if err := t.open(); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return t.readToEnd(ctx, false)
}

// open opens the log, resuming at the saved position when it names this
// file, or finishing the file it names when that was rotated while we
// were stopped.
func (t *LogTailer) open() error {
	f, err := os.Open(t.cfg.LogPath)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat audit log: %w", err)
	}
	id, _ := idOf(fi)
	t.f, t.id, t.off, t.tail, t.skipping = f, id, 0, nil, false
	if pos := t.resume; pos != nil {
		t.resume = nil
		var old *os.File
		if pos.File != id {
			old = findFile(filepath.Dir(t.cfg.LogPath), pos.File)
		}
		switch {
		case pos.File == id:
			t.off, t.tail, t.skipping = pos.Offset, pos.Tail, pos.Skipping
		case old != nil:
			t.log.Info("audit log: rotated while stopped, finishing the rotated file first", "file", old.Name())
			f.Close()
			t.f, t.id, t.off, t.tail, t.skipping = old, pos.File, pos.Offset, pos.Tail, pos.Skipping
		default:
			t.p.m.rotations.WithLabelValues("missed").Inc()
			t.log.Warn("audit log: rotated while stopped and the rotated file is gone: its lines after the saved position are lost", "path", t.cfg.LogPath)
		}
	}
	return t.save()
}

// checkTruncated starts the file over when it was truncated (copytruncate):
// shorter than the position, or other bytes before it.
func (t *LogTailer) checkTruncated() error {
	fi, err := t.f.Stat()
	if err != nil {
		return fmt.Errorf("stat audit log: %w", err)
	}
	truncated := fi.Size() < t.off
	if !truncated && len(t.tail) > 0 {
		got := make([]byte, len(t.tail))
		n, err := t.f.ReadAt(got, t.off-int64(len(t.tail)))
		truncated = (err != nil && !errors.Is(err, io.EOF)) || !bytes.Equal(got[:n], t.tail)
	}
	if !truncated {
		return nil
	}
	t.p.m.rotations.WithLabelValues("truncate").Inc()
	t.off, t.tail, t.skipping = 0, nil, false
	return t.save()
}

// readToEnd handles every complete line up to the end of the file; with
// final, a last line without newline too.
func (t *LogTailer) readToEnd(ctx context.Context, final bool) error {
	for {
		n, err := t.readChunk(ctx, final)
		if err != nil || n == 0 {
			return err
		}
	}
}

// readChunk reads from the position, hands the complete lines to the
// Processor and moves the position past them. It returns the bytes
// consumed (0 at the end of the file, or before an incomplete line).
func (t *LogTailer) readChunk(ctx context.Context, final bool) (int, error) {
	if t.buf == nil {
		t.buf = make([]byte, minReadBuf)
	}
	n, err := t.f.ReadAt(t.buf, t.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("read audit log: %w", err)
	}
	eof := n < len(t.buf)
	data := t.buf[:n]
	if n == 0 {
		return 0, nil
	}

	var (
		lines    [][]byte
		tooLarge int
		consumed int
		skipping = t.skipping // committed with the position
	)
	rest := data
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		line := rest[:i]
		consumed += i + 1
		rest = rest[i+1:]
		switch {
		case skipping:
			skipping = false // the end of a line already counted too large
		case int64(len(line)) > t.cfg.MaxBodyBytes:
			tooLarge++
		default:
			lines = append(lines, line)
		}
	}
	if len(rest) > 0 {
		switch {
		case final && eof:
			if !skipping {
				lines = append(lines, rest)
			}
			consumed += len(rest)
			skipping = false
		case skipping:
			consumed += len(rest)
		case int64(len(rest)) > t.cfg.MaxBodyBytes:
			tooLarge++
			consumed += len(rest)
			skipping = true
		case consumed == 0 && !eof:
			// One line longer than the buffer: grow it and read again.
			t.buf = make([]byte, min(int64(2*len(t.buf)), t.cfg.MaxBodyBytes+1))
			return t.readChunk(ctx, final)
		}
	}
	if consumed == 0 {
		return 0, nil
	}

	events := make([]auditv1.Event, 0, len(lines))
	var reasons []string
	for _, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := DecodeEvent(line)
		if err != nil {
			reasons = append(reasons, reasonOf(err))
			t.log.Debug("audit log: malformed line skipped", "offset", t.off, "err", err)
			continue
		}
		events = append(events, e)
	}
	if len(events) > 0 {
		if err := t.p.Process(ctx, ViaLog, events); err != nil {
			return 0, err
		}
	}
	for _, r := range reasons {
		t.p.m.malformed.WithLabelValues(string(ViaLog), r).Inc()
	}
	t.p.m.malformed.WithLabelValues(string(ViaLog), ReasonTooLarge).Add(float64(tooLarge))
	t.advance(data[:consumed])
	t.skipping = skipping
	return consumed, t.save()
}

// advance moves the position past b.
func (t *LogTailer) advance(b []byte) {
	t.off += int64(len(b))
	if len(b) >= tailLen {
		t.tail = append(t.tail[:0], b[len(b)-tailLen:]...)
		return
	}
	keep := min(len(t.tail), tailLen-len(b))
	t.tail = append(append([]byte(nil), t.tail[len(t.tail)-keep:]...), b...)
}

// save writes the position when it changed.
func (t *LogTailer) save() error {
	pos := position{File: t.id, Offset: t.off, Tail: t.tail, Skipping: t.skipping}
	if pos.File == t.saved.File && pos.Offset == t.saved.Offset && pos.Skipping == t.saved.Skipping && bytes.Equal(pos.Tail, t.saved.Tail) {
		return nil
	}
	if err := savePosition(t.cfg.StateDir, pos); err != nil {
		return err
	}
	pos.Tail = bytes.Clone(pos.Tail)
	t.saved = pos
	return nil
}

func (t *LogTailer) close() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}
