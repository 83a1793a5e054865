package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unsafe"

	"github.com/activityaudit/activityaudit/collector/event"
)

// Record layouts are the bpf2go-generated mirrors of the C structs in
// bpf/events.h. A record is read by casting the ring buffer sample to the
// generated struct after checking its length: no reflection, no copy.
// The structs have natural alignment and the samples come from the
// reader's heap buffer (8-byte aligned), so the cast is aligned too.
const (
	execHeadSize = int(unsafe.Sizeof(execBPFExecEvent{}))
	forkSize     = int(unsafe.Sizeof(procBPFForkEvent{}))
	exitSize     = int(unsafe.Sizeof(procBPFExitEvent{}))
	connSize     = int(unsafe.Sizeof(netBPFConnEvent{}))
)

// exec_event.flags (bpf/events.h).
const (
	execArgsTruncated = 0x1
	execExeTruncated  = 0x2
	execCwdTruncated  = 0x4
)

// conn_event.family and .proto values.
const (
	afInet      = 2
	ipprotoTCP  = 6
	ipprotoUDP  = 17
	protoTCPStr = "tcp"
	protoUDPStr = "udp"
)

var errShort = errors.New("record too short")

// decoder turns ring buffer records into events. Its scratch buffer is
// reused between records; it is not safe for concurrent use.
type decoder struct {
	buf []byte
}

// decode decodes one record. The event does not refer to raw.
func (d *decoder) decode(raw []byte) (event.Event, error) {
	if len(raw) == 0 {
		return event.Event{}, errShort
	}
	switch k := event.Kind(raw[0]); k {
	case event.KindExec:
		e, err := d.exec(raw)
		return event.Event{Kind: k, Exec: e}, err
	case event.KindFork:
		e, err := decodeFork(raw)
		return event.Event{Kind: k, Fork: e}, err
	case event.KindExit:
		e, err := decodeExit(raw)
		return event.Event{Kind: k, Exit: e}, err
	case event.KindConn:
		e, err := decodeConn(raw)
		return event.Event{Kind: k, Conn: e}, err
	default:
		return event.Event{}, fmt.Errorf("unknown record kind %d", k)
	}
}

// exec decodes an exec record: the fixed head, then args, exe and cwd
// components and the audit id. All its strings share one allocation:
// they are assembled in d.buf, converted to a string once and sliced.
func (d *decoder) exec(raw []byte) (*event.Exec, error) {
	if len(raw) < execHeadSize {
		return nil, errShort
	}
	h := (*execBPFExecEvent)(unsafe.Pointer(&raw[0]))
	data := raw[execHeadSize:]
	argsEnd := int(h.ArgsLen)
	exeEnd := argsEnd + int(h.ExeLen)
	cwdEnd := exeEnd + int(h.CwdLen)
	idEnd := cwdEnd + int(h.AuditIdLen)
	if len(data) < idEnd {
		return nil, fmt.Errorf("exec record: %d data bytes, need %d: %w", len(data), idEnd, errShort)
	}
	args := data[:argsEnd]

	// Layout of the string: comm, tty, args (as is), exe, cwd, audit id.
	b := d.buf[:0]
	b = append(b, cString(h.Comm[:])...)
	commEnd := len(b)
	b = appendTTY(b, cString(h.Tty[:]))
	ttyEnd := len(b)
	b = append(b, args...)
	argsStrEnd := len(b)
	b = appendPath(b, data[argsEnd:exeEnd], h.Flags&execExeTruncated != 0, false)
	exeStrEnd := len(b)
	b = appendPath(b, data[exeEnd:cwdEnd], h.Flags&execCwdTruncated != 0, true)
	cwdStrEnd := len(b)
	b = append(b, data[cwdEnd:idEnd]...)
	d.buf = b
	s := string(b)

	e := &event.Exec{
		Time:            h.Time,
		StartTime:       h.StartTime,
		TGID:            h.Tgid,
		PID:             h.Pid,
		PPID:            h.Ppid,
		ParentStartTime: h.ParentStartTime,
		UID:             h.Uid,
		GID:             h.Gid,
		LoginUID:        h.Loginuid,
		TTY:             s[commEnd:ttyEnd],
		Comm:            s[:commEnd],
		Exe:             s[argsStrEnd:exeStrEnd],
		Args:            splitArgs(s[ttyEnd:argsStrEnd]),
		ArgsTruncated:   h.Flags&execArgsTruncated != 0,
		Cwd:             s[exeStrEnd:cwdStrEnd],
		CgroupID:        h.CgroupId,
		PidNS:           h.Pidns,
		NSPID:           h.Nspid,
		ParentPidNS:     h.ParentPidns,
		ExecAuditID:     s[cwdStrEnd:],
	}
	return e, nil
}

// splitArgs splits argv as the process memory holds it: each argument
// NUL-terminated; the last one may lack its NUL when the copy was cut.
// Empty arguments are kept. The strings share s.
func splitArgs(s string) []string {
	if s == "" {
		return nil
	}
	n := strings.Count(s, "\x00")
	if s[len(s)-1] != 0 {
		n++
	}
	args := make([]string, 0, n)
	for len(s) > 0 {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			args = append(args, s)
			break
		}
		args = append(args, s[:i])
		s = s[i+1:]
	}
	return args
}

// appendPath appends the path whose components the kernel wrote leaf
// first, each NUL-terminated, as "/top/.../leaf". With no components it
// is "/" if rootIsPath, else nothing. A truncated walk gives the tail it
// resolved, without the leading "/".
func appendPath(dst, comps []byte, truncated, rootIsPath bool) []byte {
	if len(comps) > 0 && comps[len(comps)-1] == 0 {
		comps = comps[:len(comps)-1]
	}
	if len(comps) == 0 {
		if rootIsPath && !truncated {
			dst = append(dst, '/')
		}
		return dst
	}
	first := true
	for {
		i := bytes.LastIndexByte(comps, 0)
		if !first || !truncated {
			dst = append(dst, '/')
		}
		first = false
		dst = append(dst, comps[i+1:]...)
		if i < 0 {
			return dst
		}
		comps = comps[:i]
	}
}

// appendTTY appends a tty's name as its device path under /dev names it.
// The kernel's tty->name for a devpts terminal is driver name and index
// run together ("pts0": tty_line_name); its node is /dev/pts/0, the
// "pts/0" ps(1) and who(1) show. Other names ("tty1", "ttyS0") are their
// node names already.
func appendTTY(dst, name []byte) []byte {
	if digits, ok := bytes.CutPrefix(name, []byte("pts")); ok && len(digits) > 0 && allDigits(digits) {
		dst = append(dst, "pts/"...)
		return append(dst, digits...)
	}
	return append(dst, name...)
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// cString is b up to its first NUL.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

func decodeFork(raw []byte) (*event.Fork, error) {
	if len(raw) < forkSize {
		return nil, errShort
	}
	h := (*procBPFForkEvent)(unsafe.Pointer(&raw[0]))
	return &event.Fork{
		Time:            h.Time,
		ParentTGID:      h.ParentTgid,
		ParentStartTime: h.ParentStartTime,
		ChildTGID:       h.ChildTgid,
		ChildStartTime:  h.ChildStartTime,
		CgroupID:        h.CgroupId,
		PidNS:           h.Pidns,
		NSPID:           h.Nspid,
	}, nil
}

func decodeExit(raw []byte) (*event.Exit, error) {
	if len(raw) < exitSize {
		return nil, errShort
	}
	h := (*procBPFExitEvent)(unsafe.Pointer(&raw[0]))
	return &event.Exit{
		Time:      h.Time,
		TGID:      h.Tgid,
		StartTime: h.StartTime,
		ExitCode:  h.ExitCode,
	}, nil
}

func decodeConn(raw []byte) (*event.Conn, error) {
	if len(raw) < connSize {
		return nil, errShort
	}
	h := (*netBPFConnEvent)(unsafe.Pointer(&raw[0]))
	var proto string
	switch h.Proto {
	case ipprotoTCP:
		proto = protoTCPStr
	case ipprotoUDP:
		proto = protoUDPStr
	default:
		return nil, fmt.Errorf("conn record: unknown protocol %d", h.Proto)
	}
	return &event.Conn{
		Time:      h.Time,
		TGID:      h.Tgid,
		StartTime: h.StartTime,
		Comm:      string(cString(h.Comm[:])),
		Op:        event.ConnOp(h.Op),
		Proto:     proto,
		Local:     addrPort(h.Family, &h.Laddr, h.Lport),
		Remote:    addrPort(h.Family, &h.Raddr, h.Rport),
		Result:    h.Result,
		CgroupID:  h.CgroupId,
	}, nil
}

// addrPort builds an address from the kernel's bytes; IPv4-mapped IPv6
// addresses (v6 sockets talking IPv4) become IPv4.
func addrPort(family uint8, a *[16]uint8, port uint16) netip.AddrPort {
	if family == afInet {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[:4])), port)
	}
	return netip.AddrPortFrom(netip.AddrFrom16(*a).Unmap(), port)
}
