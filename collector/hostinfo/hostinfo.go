// Package hostinfo tells who this node is: its name and the MAC address of
// its primary interface (the one holding the default route).
package hostinfo

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

// Info identifies the node.
type Info struct {
	Host string
	MAC  string
}

// Read returns the node's identity. A node without a default route has no
// MAC; that is not an error.
func Read() (Info, error) {
	host, err := os.Hostname()
	if err != nil {
		return Info{}, fmt.Errorf("read hostname: %w", err)
	}
	info := Info{Host: host}
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return info, nil
	}
	defer f.Close()
	if iface := DefaultRouteInterface(f); iface != "" {
		if ni, err := net.InterfaceByName(iface); err == nil && len(ni.HardwareAddr) > 0 {
			info.MAC = ni.HardwareAddr.String()
		}
	}
	return info, nil
}

// DefaultRouteInterface reads /proc/net/route and returns the interface of
// the default route (destination 00000000) with the lowest metric.
func DefaultRouteInterface(r io.Reader) string {
	sc := bufio.NewScanner(r)
	best, bestMetric := "", -1
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		var metric int
		fmt.Sscan(f[6], &metric)
		if bestMetric < 0 || metric < bestMetric {
			best, bestMetric = f[0], metric
		}
	}
	return best
}
