package kernel

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/activityaudit/activityaudit/collector/event"
)

// listenTCP listens on addr in the test process, accepting (and closing)
// connections until the test ends.
func listenTCP(t *testing.T, network, addr string) netip.AddrPort {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String())
}

// freePort is a TCP port on addr nothing listens on.
func freePort(t *testing.T, network, addr string) netip.AddrPort {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddrPort(l.Addr().String())
	l.Close()
	return a
}

// unmapped is a with an IPv4-mapped address made IPv4, as the collector
// reports it.
func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// tcpCase is a TCP connection from a helper (through prefix) to a
// listener in the test process; both ends must be reported.
type tcpCase struct {
	name            string
	listenNet       string
	listen          string // listener address in the test process
	dial            func(l netip.AddrPort) string
	wantServerLocal func(l netip.AddrPort) netip.AddrPort
}

func checkTCP(t *testing.T, s *session, prefix []string, tt tcpCase) {
	t.Helper()
	l := listenTCP(t, tt.listenNet, tt.listen)
	dst := tt.dial(l)
	client, local := helper(t, prefix, "tcp-connect", dst)
	remote := netip.MustParseAddrPort(dst)
	serverLocal := tt.wantServerLocal(l)
	s.waitUntil("connect and accept", func(seen []event.Event) bool {
		c := find(seen, connOf, func(c *event.Conn) bool { return c.Op == event.OpConnect && c.TGID == client })
		a := find(seen, connOf, func(c *event.Conn) bool { return c.Op == event.OpAccept && c.Remote == unmapped(local) })
		if c == nil || a == nil {
			return false
		}
		if c.Proto != "tcp" || c.Result != 0 || c.Local != unmapped(local) || c.Remote != unmapped(remote) {
			t.Errorf("connect %+v, want tcp %v -> %v result 0", *c, local, remote)
		}
		if c.Comm == "" || c.StartTime == 0 || c.CgroupID == 0 {
			t.Errorf("connect %+v: owner fields missing", *c)
		}
		if a.TGID != uint32(os.Getpid()) || a.Proto != "tcp" || a.Local != serverLocal || a.Result != 0 {
			t.Errorf("accept %+v, want in pid %d on %v", *a, os.Getpid(), serverLocal)
		}
		if a.StartTime/nsPerTick != procStartTicks(t, os.Getpid()) {
			t.Errorf("accept start time %d is not the test process's", a.StartTime)
		}
		return true
	})
	s.reset()
}

// checkFailedConnect runs a helper whose connect to dst fails with errno
// and checks it is reported so, from local address localIP when valid
// (a connect refused after its SYN went out has a local port).
func checkFailedConnect(t *testing.T, s *session, prefix []string, mode, dst string, errno syscall.Errno, localIP netip.Addr) {
	t.Helper()
	client, _ := helper(t, prefix, mode, dst)
	remote := netip.MustParseAddrPort(dst)
	s.waitUntil("failed connect", func(seen []event.Event) bool {
		c := find(seen, connOf, func(c *event.Conn) bool { return c.Op == event.OpConnect && c.TGID == client })
		if c == nil {
			return false
		}
		if c.Result != -int32(errno) || c.Remote != unmapped(remote) || c.Proto != "tcp" {
			t.Errorf("connect %+v, want result %d (-%v) to %v", *c, -int32(errno), errno, remote)
		}
		if localIP.IsValid() && (c.Local.Addr() != localIP || c.Local.Port() == 0) {
			t.Errorf("connect %+v, want local %v with a port", *c, localIP)
		}
		if n := len(filter(seen, func(c *event.Conn) bool { return c.TGID == client })); n != 1 {
			t.Errorf("%d connection events for one failed connect", n)
		}
		return true
	})
	s.reset()
}

// udpCase is a UDP helper run; want are the events it must cause.
type udpCase struct {
	name string
	mode string
	args func(t *testing.T) []string
	// want returns the expected connections given the helper's local address.
	want func(args []string, local netip.AddrPort) []event.Conn
}

func checkUDP(t *testing.T, s *session, prefix []string, tt udpCase) {
	t.Helper()
	args := tt.args(t)
	client, local := helper(t, prefix, tt.mode, args...)
	want := tt.want(args, local)
	s.waitUntil("udp events", func(seen []event.Event) bool {
		got := filter(seen, func(c *event.Conn) bool { return c.TGID == client })
		if len(got) < len(want) {
			return false
		}
		if len(got) > len(want) {
			t.Errorf("%d events, want %d:\n%s", len(got), len(want), describe(seen))
		}
		for i, w := range want {
			g := got[i]
			if g.Op != w.Op || g.Proto != "udp" || g.Local != w.Local || g.Remote != w.Remote || g.Result != 0 {
				t.Errorf("event %d = %+v, want %s %v -> %v", i, *g, opName(w.Op), w.Local, w.Remote)
			}
		}
		return true
	})
	s.reset()
}

func filter(seen []event.Event, match func(*event.Conn) bool) []*event.Conn {
	var out []*event.Conn
	for _, ev := range seen {
		if ev.Conn != nil && match(ev.Conn) {
			out = append(out, ev.Conn)
		}
	}
	return out
}

func opName(op event.ConnOp) string {
	return [...]string{"?", "connect", "accept", "udp-connect", "udp-send"}[op]
}

var (
	loopbackTCP = []tcpCase{
		{
			name: "ipv4", listenNet: "tcp4", listen: "127.0.0.1:0",
			dial:            func(l netip.AddrPort) string { return l.String() },
			wantServerLocal: func(l netip.AddrPort) netip.AddrPort { return l },
		},
		{
			name: "ipv6", listenNet: "tcp6", listen: "[::1]:0",
			dial:            func(l netip.AddrPort) string { return l.String() },
			wantServerLocal: func(l netip.AddrPort) netip.AddrPort { return l },
		},
		{
			// The accepted socket is AF_INET6 with v4-mapped addresses.
			name: "ipv4 to dual-stack listener", listenNet: "tcp", listen: "[::]:0",
			dial: func(l netip.AddrPort) string { return fmt.Sprintf("127.0.0.1:%d", l.Port()) },
			wantServerLocal: func(l netip.AddrPort) netip.AddrPort {
				return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), l.Port())
			},
		},
	}
	loopbackUDP = []udpCase{
		{
			name: "ipv4 connect", mode: "udp-connect",
			args: func(t *testing.T) []string { return []string{"127.0.0.1:9"} },
			want: func(args []string, local netip.AddrPort) []event.Conn {
				return []event.Conn{{Op: event.OpUDPConnect, Local: local, Remote: netip.MustParseAddrPort(args[0])}}
			},
		},
		{
			name: "ipv6 connect", mode: "udp-connect",
			args: func(t *testing.T) []string { return []string{"[::1]:9"} },
			want: func(args []string, local netip.AddrPort) []event.Conn {
				return []event.Conn{{Op: event.OpUDPConnect, Local: local, Remote: netip.MustParseAddrPort(args[0])}}
			},
		},
		{
			name: "ipv4 unconnected sends", mode: "udp-send",
			args: func(t *testing.T) []string { return []string{"udp4", "127.0.0.1:0", "127.0.0.1:9", "127.0.0.1:7"} },
			want: sends,
		},
		{
			name: "ipv6 unconnected sends", mode: "udp-send",
			args: func(t *testing.T) []string { return []string{"udp6", "[::1]:0", "[::1]:9", "[::1]:7"} },
			want: sends,
		},
		{
			// A dual-stack socket sending to IPv4: udpv6_sendmsg hands it to udp_sendmsg.
			name: "ipv4 sends from a dual-stack socket", mode: "udp-send",
			args: func(t *testing.T) []string { return []string{"udp", "[::]:0", "127.0.0.1:9", "127.0.0.1:7"} },
			want: sends,
		},
	}
)

// sends: one event per destination (the second send to the first is not reported).
func sends(args []string, local netip.AddrPort) []event.Conn {
	return []event.Conn{
		{Op: event.OpUDPSend, Local: local, Remote: netip.MustParseAddrPort(args[2])},
		{Op: event.OpUDPSend, Local: local, Remote: netip.MustParseAddrPort(args[3])},
	}
}

func TestConnLoopback(t *testing.T) {
	s := open(t, Options{ExcludeTGID: noExclude})
	for _, tt := range loopbackTCP {
		t.Run("tcp "+tt.name, func(t *testing.T) { checkTCP(t, s, nil, tt) })
	}
	for _, tt := range []struct {
		name, network, addr string
	}{
		{"ipv4", "tcp4", "127.0.0.1:0"},
		{"ipv6", "tcp6", "[::1]:0"},
	} {
		t.Run("tcp refused "+tt.name, func(t *testing.T) {
			dst := freePort(t, tt.network, tt.addr)
			checkFailedConnect(t, s, nil, "tcp-refused", dst.String(), syscall.ECONNREFUSED, dst.Addr())
		})
	}
	for _, tt := range loopbackUDP {
		t.Run("udp "+tt.name, func(t *testing.T) { checkUDP(t, s, nil, tt) })
	}
}

// netns is a network namespace joined to the test's by a veth pair:
// 10.200.0.1 and fd00:200::1 here, 10.200.0.2 and fd00:200::2 there.
func netns(t *testing.T) (prefix []string) {
	t.Helper()
	name := fmt.Sprintf("aa-kernel-test-%d", os.Getpid())
	host, peer := fmt.Sprintf("aah%d", os.Getpid()%100000), fmt.Sprintf("aap%d", os.Getpid()%100000)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", name)
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", host).Run()
		exec.Command("ip", "netns", "del", name).Run()
	})
	ip("link", "add", host, "type", "veth", "peer", "name", peer, "netns", name)
	ip("addr", "add", "10.200.0.1/24", "dev", host)
	ip("addr", "add", "fd00:200::1/64", "dev", host, "nodad")
	ip("link", "set", host, "up")
	in := []string{"netns", "exec", name, "ip"}
	ip(append(in, "addr", "add", "10.200.0.2/24", "dev", peer)...)
	ip(append(in, "addr", "add", "fd00:200::2/64", "dev", peer, "nodad")...)
	ip(append(in, "link", "set", peer, "up")...)
	ip(append(in, "link", "set", "lo", "up")...)
	return []string{"ip", "netns", "exec", name}
}

func TestConnNetns(t *testing.T) {
	prefix := netns(t)
	s := open(t, Options{ExcludeTGID: noExclude})
	for _, tt := range []tcpCase{
		{
			name: "ipv4", listenNet: "tcp4", listen: "10.200.0.1:0",
			dial:            func(l netip.AddrPort) string { return l.String() },
			wantServerLocal: func(l netip.AddrPort) netip.AddrPort { return l },
		},
		{
			name: "ipv6", listenNet: "tcp6", listen: "[fd00:200::1]:0",
			dial:            func(l netip.AddrPort) string { return l.String() },
			wantServerLocal: func(l netip.AddrPort) netip.AddrPort { return l },
		},
	} {
		t.Run("tcp "+tt.name, func(t *testing.T) { checkTCP(t, s, prefix, tt) })
	}
	t.Run("tcp refused", func(t *testing.T) {
		dst := freePort(t, "tcp4", "10.200.0.1:0")
		checkFailedConnect(t, s, prefix, "tcp-refused", dst.String(), syscall.ECONNREFUSED, netip.MustParseAddr("10.200.0.2"))
	})
	// No route in the namespace: tcp_v4_connect fails before SYN_SENT,
	// only connect()'s return value tells.
	t.Run("tcp unreachable", func(t *testing.T) {
		checkFailedConnect(t, s, prefix, "tcp-unreachable", "198.51.100.1:80", syscall.ENETUNREACH, netip.Addr{})
	})
	for _, tt := range []udpCase{
		{
			name: "ipv4 connect", mode: "udp-connect",
			args: func(t *testing.T) []string { return []string{"10.200.0.1:9"} },
			want: func(args []string, local netip.AddrPort) []event.Conn {
				return []event.Conn{{Op: event.OpUDPConnect, Local: local, Remote: netip.MustParseAddrPort(args[0])}}
			},
		},
		{
			name: "ipv6 sends", mode: "udp-send",
			args: func(t *testing.T) []string {
				return []string{"udp6", "[fd00:200::2]:0", "[fd00:200::1]:9", "[fd00:200::1]:7"}
			},
			want: sends,
		},
	} {
		t.Run("udp "+tt.name, func(t *testing.T) { checkUDP(t, s, prefix, tt) })
	}
}

// TestExcludeSelf: the process the collector excludes (by default the
// caller, here the test process) is never reported; its children are.
func TestExcludeSelf(t *testing.T) {
	s := open(t, Options{})
	self := uint32(os.Getpid())
	l := listenTCP(t, "tcp4", "127.0.0.1:0")
	c, err := net.Dial("tcp4", l.String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	u, err := net.Dial("udp4", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("x"))
	u.Close()
	// A child's connection marks the point by which the test process's
	// own events would have been in the ring before it.
	child, _ := helper(t, nil, "tcp-connect", l.String())
	seen := s.waitUntil("the child's connect", func(seen []event.Event) bool {
		return find(seen, connOf, func(c *event.Conn) bool { return c.TGID == child && c.Op == event.OpConnect }) != nil
	})
	for _, ev := range seen {
		if (ev.Conn != nil && ev.Conn.TGID == self) || (ev.Fork != nil && ev.Fork.ParentTGID == self) {
			t.Errorf("event of the excluded process: %s", describe([]event.Event{ev}))
		}
	}
	if find(seen, execOf, func(e *event.Exec) bool { return e.TGID == child }) == nil {
		t.Errorf("the child's exec was not reported:\n%s", describe(seen))
	}
}
