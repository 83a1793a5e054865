package spool

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// syncLoop fsyncs what was written, every interval, until Close.
func (s *Spool) syncLoop(interval time.Duration) {
	defer s.syncWG.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			_ = s.syncOnce() // what failed is tried again at the next tick
		}
	}
}

// syncOnce fsyncs (and closes) the segments rotated out, the active
// segment and the position file, as far as they were written to.
func (s *Spool) syncOnce() error {
	s.mu.Lock()
	files := s.toSync
	s.toSync = nil
	var active *os.File
	if s.dirty {
		active, s.dirty = s.active, false
	}
	posDirty := s.posDirty || len(files) > 0
	s.posDirty = false
	s.mu.Unlock()
	var errs []error
	for _, f := range files {
		if err := f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("sync segment: %w", err))
		}
		f.Close()
	}
	if active != nil {
		if err := active.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("sync segment: %w", err))
			s.mu.Lock()
			s.dirty = s.dirty || s.active == active // try again
			s.mu.Unlock()
		}
	}
	if posDirty {
		if err := syncPosition(s.opts.Dir); err != nil {
			errs = append(errs, err)
			s.mu.Lock()
			s.posDirty = true // try again
			s.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}
