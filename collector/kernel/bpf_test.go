package kernel

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
)

// The helpers the hooks use, run in the kernel through BPF_PROG_TEST_RUN
// by the syscall programs of bpf/test.c.

func loadTestPrograms(t *testing.T) *testBPFObjects {
	t.Helper()
	var objs testBPFObjects
	if err := loadTestBPFObjects(&objs, nil); err != nil {
		t.Fatalf("load test programs: %v", err)
	}
	t.Cleanup(func() { objs.Close() })
	return &objs
}

func testRun(t *testing.T, objs *testBPFObjects, prog *ebpf.Program, in any) testBPFTestOut {
	t.Helper()
	ret, err := prog.Run(&ebpf.RunOptions{Context: in})
	if err != nil {
		t.Fatalf("test run: %v", err)
	}
	if ret != 0 {
		t.Fatalf("test run returned %d", ret)
	}
	var out testBPFTestOut
	if err := objs.TestResults.Lookup(uint32(0), &out); err != nil {
		t.Fatalf("read test results: %v", err)
	}
	return out
}

func TestBPFAuditID(t *testing.T) {
	objs := loadTestPrograms(t)
	const key = "KUBERNETES_EXEC_AUDIT_ID="
	long := strings.Repeat("v", 200)
	tests := []struct {
		name string
		env  []string
		cut  int // bytes of environment given, 0 for all
		want string
	}{
		{"first", []string{key + "abc", "PATH=/bin"}, 0, "abc"},
		{"last", []string{"PATH=/bin", "HOME=/root", key + "id-42"}, 0, "id-42"},
		{"absent", []string{"PATH=/bin", "HOME=/root"}, 0, ""},
		{"empty value", []string{"A=1", key, "B=2"}, 0, ""},
		{"name inside a value", []string{"X=" + key + "no", "Y=1"}, 0, ""},
		{"longer name", []string{"KUBERNETES_EXEC_AUDIT_IDX=no", key + "yes"}, 0, "yes"},
		{"value cut at 127 bytes", []string{key + long}, 0, long[:127]},
		{"beyond the 8 KiB scanned", []string{"PAD=" + strings.Repeat("p", 8200), key + "late"}, 0, ""},
		{"first of more than 8 KiB", []string{key + "early", "PAD=" + strings.Repeat("p", 8200)}, 0, "early"},
		{"value cut by the end of the copy", []string{"A=1", key + "abcdef"}, len("A=1\x00" + key + "abc"), "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			block := strings.Join(tt.env, "\x00") + "\x00"
			var in testBPFEnvTestIn
			n := copy(in.Env[:], block)
			if tt.cut != 0 {
				n = tt.cut
			}
			in.Len = uint32(n)
			out := testRun(t, objs, objs.TestAuditId, &in)
			got := ""
			if out.Env.Found >= 0 {
				got = string(out.Env.Value[:out.Env.ValueLen])
			}
			if got != tt.want {
				t.Errorf("audit id = %q (found at %d), want %q", got, out.Env.Found, tt.want)
			}
		})
	}
}

func TestBPFConnectDecisions(t *testing.T) {
	objs := loadTestPrograms(t)
	const (
		established = 1
		synSent     = 2
		synRecv     = 3
		closed      = 7
		closeWait   = 8
		none        = 0
		success     = 1
		failure     = 2
	)
	errno := func(e syscall.Errno) int64 { return -int64(e) }
	tests := []struct {
		name        string
		old, new    int32
		skErr       int32
		ret         int64
		wantOutcome int32
		wantResult  int32
		wantPending uint32
	}{
		{"handshake done", synSent, established, 0, 0, success, -int32(syscall.ECONNABORTED), 1},
		{"simultaneous open", synRecv, established, 0, errno(syscall.EINPROGRESS), success, -int32(syscall.ECONNABORTED), 1},
		{"refused", synSent, closed, int32(syscall.ECONNREFUSED), errno(syscall.ECONNREFUSED), failure, -int32(syscall.ECONNREFUSED), 0},
		{"timed out", synSent, closed, int32(syscall.ETIMEDOUT), errno(syscall.EALREADY), failure, -int32(syscall.ETIMEDOUT), 1},
		{"closed while connecting", synSent, closed, 0, errno(syscall.EINTR), failure, -int32(syscall.ECONNABORTED), 1},
		{"not a connect", established, closeWait, 0, errno(syscall.ENETUNREACH), none, -int32(syscall.ECONNABORTED), 0},
		{"restart", closed, synSent, 0, -512, none, -int32(syscall.ECONNABORTED), 1},
		{"no port", closed, synSent, 0, errno(syscall.EADDRNOTAVAIL), none, -int32(syscall.ECONNABORTED), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testBPFOutcomeTestIn{Oldstate: tt.old, Newstate: tt.new, SkErr: tt.skErr, ConnectRet: tt.ret}
			out := testRun(t, objs, objs.TestConn, &in).Outcome
			if out.Outcome != tt.wantOutcome || out.Result != tt.wantResult || out.Pending != tt.wantPending {
				t.Errorf("outcome %d result %d pending %d, want %d %d %d",
					out.Outcome, out.Result, out.Pending, tt.wantOutcome, tt.wantResult, tt.wantPending)
			}
		})
	}
}

// TestBPFPath resolves the test process's own cwd and executable with
// the path walker the exec program uses, run in the test's task.
func TestBPFPath(t *testing.T) {
	objs := loadTestPrograms(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	deep := t.TempDir()
	for i := range 70 {
		deep = filepath.Join(deep, string(rune('a'+i%26)))
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	// Longer than PATH_MAX in all: built and entered one relative step
	// at a time.
	longBase := t.TempDir()
	long := resolved(t, longBase)
	name := strings.Repeat("n", 250)
	for range 17 {
		long += "/" + name
	}
	enterLong := func(t *testing.T) {
		t.Chdir(longBase)
		for range 17 {
			if err := os.Mkdir(name, 0o755); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
			if err := os.Chdir(name); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name      string
		which     uint32
		dir       string           // chdir here first
		enter     func(*testing.T) // or call this
		want      string           // "" for the working directory
		truncated bool
	}{
		{"cwd", 0, "", nil, "", false},
		{"root", 0, "/", nil, "/", false},
		{"proc mount", 0, "/proc/self", nil, "", false},
		{"executable", 1, "", nil, resolved(t, exe), false},
		{"deeper than 64", 0, deep, nil, "", true},
		{"longer than 4 KiB", 0, "", enterLong, long, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dir != "" {
				t.Chdir(tt.dir)
			}
			if tt.enter != nil {
				tt.enter(t)
			}
			want := tt.want
			if want == "" {
				wd, err := os.Getwd()
				if err != nil {
					t.Fatal(err)
				}
				want = resolved(t, wd)
			}
			out := testRun(t, objs, objs.TestPath, &testBPFPathTestIn{Which: tt.which}).Path
			got := string(appendPath(nil, out.Data[:out.Len], out.Flags != 0, true))
			if (out.Flags != 0) != tt.truncated {
				t.Errorf("truncated = %v, want %v", out.Flags != 0, tt.truncated)
			}
			if !tt.truncated && got != want {
				t.Errorf("path = %q, want %q", got, want)
			}
			if tt.truncated && (strings.HasPrefix(got, "/") || !strings.HasSuffix(want, "/"+got)) {
				t.Errorf("truncated path %q is not a relative tail of %q", got, want)
			}
		})
	}
}
