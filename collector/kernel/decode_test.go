package kernel

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/activityaudit/activityaudit/collector/event"
)

// Records are built the way the programs write them: the generated
// struct's bytes, then the exec data.

func structBytes[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}

// comps encodes a path the way the kernel walk writes it: components
// leaf first, each NUL-terminated.
func comps(path string) []byte {
	var b []byte
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for _, p := range slices.Backward(parts) {
		if p != "" {
			b = append(append(b, p...), 0)
		}
	}
	return b
}

func execRecord(h execBPFExecEvent, args, exe, cwd []byte, auditID string) []byte {
	h.Kind = uint8(event.KindExec)
	h.ArgsLen, h.ExeLen, h.CwdLen, h.AuditIdLen = uint16(len(args)), uint16(len(exe)), uint16(len(cwd)), uint16(len(auditID))
	rec := append([]byte(nil), structBytes(&h)...)
	rec = append(rec, args...)
	rec = append(rec, exe...)
	rec = append(rec, cwd...)
	return append(rec, auditID...)
}

func comm(s string) (a [16]uint8) {
	copy(a[:], s)
	return a
}

func tty(s string) (a [64]uint8) {
	copy(a[:], s)
	return a
}

func typicalExecHead() execBPFExecEvent {
	return execBPFExecEvent{
		Tgid: 4242, Pid: 4243, Ppid: 1, Uid: 1000, Gid: 1001, Loginuid: 1000,
		Pidns: 4026531836, Nspid: 4242, ParentPidns: 4026531836,
		Time: 2_000_000, StartTime: 1_000_000, ParentStartTime: 10, CgroupId: 77,
		Comm: comm("curl"), Tty: tty("pts3"),
	}
}

func TestDecodeExec(t *testing.T) {
	tests := []struct {
		name    string
		flags   uint8
		args    string
		exe     []byte
		cwd     []byte
		auditID string
		want    func(e *event.Exec)
	}{
		{
			name: "typical", args: "curl\x00-s\x00https://example.com\x00",
			exe: comps("/usr/bin/curl"), cwd: comps("/home/u"), auditID: "a-1",
			want: func(e *event.Exec) {
				e.Args = []string{"curl", "-s", "https://example.com"}
				e.Exe, e.Cwd, e.ExecAuditID = "/usr/bin/curl", "/home/u", "a-1"
			},
		},
		{
			name: "empty arguments kept", args: "a\x00\x00\x00b\x00",
			exe: comps("/x"), cwd: nil,
			want: func(e *event.Exec) { e.Args = []string{"a", "", "", "b"}; e.Exe, e.Cwd = "/x", "/" },
		},
		{
			name: "cut argument", flags: execArgsTruncated, args: "a\x00bcd",
			exe: comps("/x"), cwd: comps("/"),
			want: func(e *event.Exec) { e.Args = []string{"a", "bcd"}; e.ArgsTruncated = true; e.Exe, e.Cwd = "/x", "/" },
		},
		{
			name: "no arguments", args: "",
			exe: comps("/x"), cwd: comps("/tmp"),
			want: func(e *event.Exec) { e.Exe, e.Cwd = "/x", "/tmp" },
		},
		{
			name: "truncated paths are relative tails", flags: execExeTruncated | execCwdTruncated, args: "x\x00",
			exe: comps("c/d/x"), cwd: comps("e/f"),
			want: func(e *event.Exec) { e.Args = []string{"x"}; e.Exe, e.Cwd = "c/d/x", "e/f" },
		},
		{
			name: "spaces in names", args: "x\x00",
			exe: comps("/opt/my app/bin/x"), cwd: comps("/a b/c"),
			want: func(e *event.Exec) { e.Args = []string{"x"}; e.Exe, e.Cwd = "/opt/my app/bin/x", "/a b/c" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := typicalExecHead()
			h.Flags = tt.flags
			var d decoder
			ev, err := d.decode(execRecord(h, []byte(tt.args), tt.exe, tt.cwd, tt.auditID))
			if err != nil {
				t.Fatal(err)
			}
			want := &event.Exec{
				Time: 2_000_000, StartTime: 1_000_000, TGID: 4242, PID: 4243, PPID: 1, ParentStartTime: 10,
				UID: 1000, GID: 1001, LoginUID: 1000, TTY: "pts/3", Comm: "curl", CgroupID: 77,
				PidNS: 4026531836, NSPID: 4242, ParentPidNS: 4026531836,
			}
			tt.want(want)
			if ev.Kind != event.KindExec || !reflect.DeepEqual(ev.Exec, want) {
				t.Errorf("decoded\n %+v\nwant\n %+v", ev.Exec, want)
			}
		})
	}
}

func TestDecodeTTY(t *testing.T) {
	for _, tt := range []struct{ kernel, want string }{
		{"pts0", "pts/0"}, {"pts12", "pts/12"}, {"tty1", "tty1"}, {"ttyS0", "ttyS0"}, {"pts", "pts"}, {"ptsx", "ptsx"}, {"", ""},
	} {
		if got := string(appendTTY(nil, []byte(tt.kernel))); got != tt.want {
			t.Errorf("tty %q = %q, want %q", tt.kernel, got, tt.want)
		}
	}
}

func TestDecodeConn(t *testing.T) {
	v4 := func(s string) (a [16]uint8) { copy(a[:], netip.MustParseAddr(s).AsSlice()); return a }
	v6 := func(s string) [16]uint8 { return netip.MustParseAddr(s).As16() }
	tests := []struct {
		name  string
		rec   netBPFConnEvent
		local string
		remot string
		proto string
	}{
		{"tcp ipv4", netBPFConnEvent{Proto: 6, Family: 2, Laddr: v4("10.0.0.1"), Lport: 40000, Raddr: v4("1.1.1.1"), Rport: 443}, "10.0.0.1:40000", "1.1.1.1:443", "tcp"},
		{"udp ipv6", netBPFConnEvent{Proto: 17, Family: 10, Laddr: v6("fd00::1"), Lport: 5353, Raddr: v6("2001:db8::53"), Rport: 53}, "[fd00::1]:5353", "[2001:db8::53]:53", "udp"},
		{"v4-mapped is ipv4", netBPFConnEvent{Proto: 6, Family: 10, Laddr: v6("::ffff:127.0.0.1"), Lport: 1, Raddr: v6("::ffff:10.1.2.3"), Rport: 2}, "127.0.0.1:1", "10.1.2.3:2", "tcp"},
		{"unspecified v6 local", netBPFConnEvent{Proto: 17, Family: 10, Lport: 9, Raddr: v6("::ffff:10.1.2.3"), Rport: 2}, "[::]:9", "10.1.2.3:2", "udp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rec
			r.Kind, r.Op, r.Result, r.Tgid, r.Time, r.StartTime, r.CgroupId = uint8(event.KindConn), 1, -111, 7, 9, 8, 5
			r.Comm = comm("nc")
			var d decoder
			ev, err := d.decode(structBytes(&r))
			if err != nil {
				t.Fatal(err)
			}
			want := &event.Conn{
				Time: 9, TGID: 7, StartTime: 8, Comm: "nc", Op: event.OpConnect, Proto: tt.proto,
				Local: netip.MustParseAddrPort(tt.local), Remote: netip.MustParseAddrPort(tt.remot), Result: -111, CgroupID: 5,
			}
			if !reflect.DeepEqual(ev.Conn, want) {
				t.Errorf("decoded %+v, want %+v", ev.Conn, want)
			}
		})
	}
}

func TestDecodeForkExit(t *testing.T) {
	f := procBPFForkEvent{Kind: uint8(event.KindFork), ParentTgid: 1, ChildTgid: 2, Pidns: 3, Time: 4, ParentStartTime: 5, ChildStartTime: 6, CgroupId: 7, Nspid: 8}
	x := procBPFExitEvent{Kind: uint8(event.KindExit), Tgid: 2, Time: 9, StartTime: 6, ExitCode: 3 << 8}
	var d decoder
	ev, err := d.decode(structBytes(&f))
	if err != nil {
		t.Fatal(err)
	}
	if want := (event.Fork{Time: 4, ParentTGID: 1, ParentStartTime: 5, ChildTGID: 2, ChildStartTime: 6, CgroupID: 7, PidNS: 3, NSPID: 8}); *ev.Fork != want {
		t.Errorf("fork %+v, want %+v", *ev.Fork, want)
	}
	ev, err = d.decode(structBytes(&x))
	if err != nil {
		t.Fatal(err)
	}
	if want := (event.Exit{Time: 9, TGID: 2, StartTime: 6, ExitCode: 3 << 8}); *ev.Exit != want {
		t.Errorf("exit %+v, want %+v", *ev.Exit, want)
	}
}

func TestDecodeMalformed(t *testing.T) {
	h := typicalExecHead()
	full := execRecord(h, []byte("a\x00"), comps("/x"), comps("/"), "")
	conn := netBPFConnEvent{Kind: uint8(event.KindConn), Proto: 6}
	badProto := netBPFConnEvent{Kind: uint8(event.KindConn), Proto: 1}
	for _, tt := range []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"unknown kind", []byte{9, 0, 0, 0}},
		{"short exec head", full[:execHeadSize-1]},
		{"short exec data", full[:len(full)-1]},
		{"short fork", []byte{uint8(event.KindFork), 0}},
		{"short exit", []byte{uint8(event.KindExit), 0}},
		{"short conn", structBytes(&conn)[:connSize-1]},
		{"unknown protocol", structBytes(&badProto)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d decoder
			if ev, err := d.decode(tt.rec); err == nil {
				t.Errorf("decoded %+v, want an error", ev)
			}
		})
	}
}

// The generated record types must keep the kinds and operations the Go
// side expects; the C enums are the definition.
func TestRecordConstants(t *testing.T) {
	if execHeadSize != 160 || forkSize != 56 || exitSize != 32 || connSize != 88 {
		t.Errorf("record sizes exec %d fork %d exit %d conn %d changed: regenerate and review decode.go", execHeadSize, forkSize, exitSize, connSize)
	}
	if event.OpConnect != 1 || event.OpAccept != 2 || event.OpUDPConnect != 3 || event.OpUDPSend != 4 {
		t.Error("event.ConnOp values differ from enum conn_op in bpf/events.h")
	}
	if event.KindExec != 1 || event.KindFork != 2 || event.KindExit != 3 || event.KindConn != 4 {
		t.Error("event.Kind values differ from enum event_kind in bpf/events.h")
	}
}

func TestParseCgroup2Root(t *testing.T) {
	tests := []struct {
		name, mountinfo, want string
	}{
		{"unified", "35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n", "/sys/fs/cgroup"},
		{"hybrid", "30 25 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n31 30 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n40 30 0:35 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n", "/sys/fs/cgroup/unified"},
		{"bind of a subtree first", "50 1 0:30 /kubepods /mnt/sub rw - cgroup2 cgroup2 rw\n51 1 0:30 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw\n", "/mnt/my cg"},
		{"none", "30 25 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCgroup2Root(strings.NewReader(tt.mountinfo))
			if (err != nil) != (tt.want == "") || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// Benchmarks: decoding one record to an event, as Run does.

func benchmarkDecode(b *testing.B, rec []byte) {
	var d decoder
	if _, err := d.decode(rec); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.decode(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeExec(b *testing.B) {
	args := []byte("/usr/bin/python3\x00-m\x00http.server\x00--bind\x00127.0.0.1\x008080\x00")
	rec := execRecord(typicalExecHead(), args, comps("/usr/bin/python3.11"), comps("/home/user/projects/site"), "")
	benchmarkDecode(b, rec)
}

func BenchmarkDecodeExecLongArgs(b *testing.B) {
	var args []byte
	for i := 0; len(args) < 4096; i++ {
		args = fmt.Appendf(args, "--option-%02d=%s\x00", i, strings.Repeat("v", 48))
	}
	rec := execRecord(typicalExecHead(), args[:4096], comps("/usr/local/bin/tool"), comps("/srv/data/job/1234"), "exec-audit-0123")
	benchmarkDecode(b, rec)
}

func BenchmarkDecodeConn(b *testing.B) {
	r := netBPFConnEvent{Kind: uint8(event.KindConn), Op: 1, Proto: 6, Family: 10, Lport: 40000, Rport: 443, Comm: comm("curl")}
	r.Laddr = netip.MustParseAddr("fd00::2").As16()
	r.Raddr = netip.MustParseAddr("2001:db8::1").As16()
	benchmarkDecode(b, structBytes(&r))
}

func BenchmarkDecodeFork(b *testing.B) {
	f := procBPFForkEvent{Kind: uint8(event.KindFork), ParentTgid: 1, ChildTgid: 2}
	benchmarkDecode(b, structBytes(&f))
}
