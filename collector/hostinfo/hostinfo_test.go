package hostinfo

import (
	"os"
	"strings"
	"testing"
)

func TestDefaultRouteInterface(t *testing.T) {
	const header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	tests := []struct{ name, table, want string }{
		{"one default", header + "eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n", "eth0"},
		{"lowest metric wins", header + "wlan0\t00000000\t01\t0003\t0\t0\t600\t00000000\t0\t0\t0\neth1\t00000000\t01\t0003\t0\t0\t100\t00000000\t0\t0\t0\n", "eth1"},
		{"no default", header + "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DefaultRouteInterface(strings.NewReader(tt.table)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	info, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if info.Host != host {
		t.Errorf("host %q, want %q", info.Host, host)
	}
}
