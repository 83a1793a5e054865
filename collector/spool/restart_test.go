package spool

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestRestart(t *testing.T) {
	const n = 100
	tests := []struct {
		name  string
		acked int // entries acknowledged before the restart
		read  int // entries read (acked or not) before the restart
		want  []int
	}{
		{name: "nothing read", want: seq(0, n)},
		{name: "read but not acked", read: 60, want: seq(0, n)},
		{name: "acked across segments", acked: 45, read: 45, want: seq(45, n)},
		{name: "acked some, read more", acked: 30, read: 80, want: seq(30, n)},
		{name: "all acked", acked: n, read: n, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := small(dir)
			o.MaxBytes = 1 << 20
			s, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, s, 0, n, 60, 7)
			if tt.acked > 0 {
				b := read(t, s, tt.acked)
				if err := s.Ack(b); err != nil {
					t.Fatal(err)
				}
			}
			if tt.read > tt.acked {
				read(t, s, tt.read-tt.acked)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("second close: %v", err)
			}
			for round := range 2 { // reopen twice: nothing changes without acks
				s = open(t, o)
				st := s.Stats()
				if st.Entries != int64(len(tt.want)) || st.Corrupt != 0 {
					t.Fatalf("round %d: stats after reopen %+v, want %d entries", round, st, len(tt.want))
				}
				checkDisk(t, s)
				if got := numbers(t, readAll(t, s)); !slices.Equal(got, tt.want) {
					t.Fatalf("round %d: replayed %v, want %v", round, got, tt.want)
				}
				s.Close()
			}
			s = open(t, o)
			appendN(t, s, n, n+10, 60, 3)
			if got := numbers(t, drain(t, s, 13, 1<<20)); !slices.Equal(got, append(tt.want, seq(n, n+10)...)) {
				t.Fatalf("after appending more: %v", got)
			}
		})
	}
}

func TestCorruption(t *testing.T) {
	const n = 60 // entries of 100 bytes: 9 to a 1 KiB segment
	tests := []struct {
		name        string
		damage      func(t *testing.T, dir string, segs []string)
		want        []int
		wantCorrupt uint64
	}{
		{
			name: "torn tail",
			damage: func(t *testing.T, dir string, segs []string) {
				truncateBy(t, filepath.Join(dir, segs[len(segs)-1]), 30)
			},
			want: seq(0, n-1), wantCorrupt: 1,
		},
		{
			name: "torn header",
			damage: func(t *testing.T, dir string, segs []string) {
				appendBytes(t, filepath.Join(dir, segs[len(segs)-1]), []byte{100, 0, 0})
			},
			want: seq(0, n), wantCorrupt: 1,
		},
		{
			name: "zeroes after the tail",
			damage: func(t *testing.T, dir string, segs []string) {
				appendBytes(t, filepath.Join(dir, segs[len(segs)-1]), make([]byte, 512))
			},
			want: seq(0, n), wantCorrupt: 1,
		},
		{
			name: "flipped byte in an older segment",
			damage: func(t *testing.T, dir string, segs []string) {
				// Segment 2 holds entries 9..17; break the fourth (12).
				flipByte(t, filepath.Join(dir, segs[1]), 3*108+frameHeader+50)
			},
			want: append(seq(0, 12), seq(18, n)...), wantCorrupt: 1,
		},
		{
			name: "bad length in an older segment",
			damage: func(t *testing.T, dir string, segs []string) {
				flipByte(t, filepath.Join(dir, segs[0]), 108+2) // entry 1's length
			},
			want: append([]int{0}, seq(9, n)...), wantCorrupt: 1,
		},
		{
			name: "two damaged segments",
			damage: func(t *testing.T, dir string, segs []string) {
				flipByte(t, filepath.Join(dir, segs[0]), 8*108+frameHeader) // entry 8
				truncateBy(t, filepath.Join(dir, segs[len(segs)-1]), 1)
			},
			want: append(seq(0, 8), seq(9, n-1)...), wantCorrupt: 2,
		},
		{
			name: "garbage position file",
			damage: func(t *testing.T, dir string, segs []string) {
				if err := os.WriteFile(filepath.Join(dir, positionFile), []byte("garbage"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: seq(0, n),
		},
		{
			name: "position beyond every segment",
			damage: func(t *testing.T, dir string, segs []string) {
				if _, err := writePosition(dir, 1000, 5); err != nil {
					t.Fatal(err)
				}
			},
			want: seq(0, n),
		},
		{
			name: "position inside a frame",
			damage: func(t *testing.T, dir string, segs []string) {
				seq, _ := parseSegName(segs[1])
				if _, err := writePosition(dir, seq, 108+20); err != nil {
					t.Fatal(err)
				}
			},
			want: seq(11, n), // realigned on the next frame
		},
		{
			name: "stray files",
			damage: func(t *testing.T, dir string, segs []string) {
				for _, name := range []string{"notes.txt", "123.seg", positionTemp} {
					if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: seq(0, n),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, Options{Dir: dir, SegmentBytes: 1 << 10, MaxBytes: 1 << 20})
			appendN(t, s, 0, n, 100, 1)
			s.Close()
			segs, _ := segFiles(t, dir)
			tt.damage(t, dir, segs)

			s = open(t, Options{Dir: dir, SegmentBytes: 1 << 10, MaxBytes: 1 << 20})
			st := s.Stats()
			if st.Corrupt != tt.wantCorrupt || st.Entries != int64(len(tt.want)) {
				t.Errorf("stats %+v; want %d corrupt, %d entries", st, tt.wantCorrupt, len(tt.want))
			}
			checkDisk(t, s)
			if got := numbers(t, readAll(t, s)); !slices.Equal(got, tt.want) {
				t.Fatalf("read %v\nwant %v", got, tt.want)
			}
			// Appends go on after the good frames.
			appendN(t, s, 100, 103, 100, 3)
			s.Rewind()
			if got := numbers(t, drain(t, s, 10, 1<<20)); !slices.Equal(got, append(tt.want, 100, 101, 102)) {
				t.Fatalf("after appending: %v", got)
			}
			s.Close()
			s = open(t, Options{Dir: dir, SegmentBytes: 1 << 10, MaxBytes: 1 << 20})
			if st := s.Stats(); st.Corrupt != 0 || st.Entries != 0 {
				t.Fatalf("stats after a clean reopen %+v", st)
			}
		})
	}
}

func truncateBy(t *testing.T, path string, n int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()-n); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x40
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
