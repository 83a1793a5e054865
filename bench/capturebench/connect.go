package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/activityaudit/activityaudit/collector/event"
)

// connectRow is one connect storm. Every connect, failed or not, makes an
// out record; every accept an in record.
type connectRow struct {
	collector        string
	loops, rate      int
	d                time.Duration
	connects, failed uint64
	accepts          uint64
	outSeen, inSeen  uint64
	connDrops        uint64
	allDrops         uint64
	cpu              time.Duration
	load             string
}

// listener accepts loopback connections and closes them, counting.
type listener struct {
	ln      *net.TCPListener
	accepts atomic.Uint64
	wg      sync.WaitGroup
}

func listen() (*listener, error) {
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	l := &listener{ln: ln}
	for range 2 {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				c, err := ln.AcceptTCP()
				if errors.Is(err, net.ErrClosed) {
					return
				}
				if err != nil {
					continue
				}
				l.accepts.Add(1)
				c.Close()
			}
		}()
	}
	return l, nil
}

func (l *listener) close() {
	l.ln.Close()
	l.wg.Wait()
}

func runConnect(cfg config) error {
	l, err := listen()
	if err != nil {
		return err
	}
	defer l.close()
	var rows []connectRow
	for _, bin := range cfg.collectors {
		r, err := connectStorms(cfg, bin, l)
		rows = append(rows, r...)
		if err != nil {
			return err
		}
	}
	fmt.Println()
	fmt.Println("| collector | clients | target rate | load before | connects/s | connects (failed) | accepts | out records | in records | lost out / in | ring drops conn / all | collector CPU, % of a core | collector CPU, µs per record |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(connectTableRow(r))
	}
	return nil
}

// connectStorms runs the connect storms watched by one collector binary.
func connectStorms(cfg config, bin collectorBin, l *listener) ([]connectRow, error) {
	col, err := startCollector(cfg, bin)
	if err != nil {
		return nil, err
	}
	defer col.stop()
	drops, err := openDrops(col.pid())
	if err != nil {
		return nil, err
	}
	defer drops.Close()
	var rows []connectRow
	for _, n := range cfg.loops {
		r, err := connectStorm(n, cfg.rate, cfg.duration, l, col, drops)
		if err != nil {
			return rows, err
		}
		r.collector = bin.label
		fmt.Printf("connect storm (load before: %s): %s\n", r.load, connectTableRow(r))
		rows = append(rows, r)
	}
	return rows, nil
}

func connectStorm(loops, rate int, d time.Duration, l *listener, col *watched, drops *dropCounters) (connectRow, error) {
	r := connectRow{loops: loops, rate: rate, d: d, load: loadavg()}
	port := strconv.Itoa(l.ln.Addr().(*net.TCPAddr).Port)
	pats := newPatterns(
		[]string{`"direction":"out"`, `"server_port":` + port},
		[]string{`"direction":"in"`, `"server_port":` + port},
	)
	col.watch(pats)
	drops0, err := drops.read()
	if err != nil {
		return r, err
	}
	accepts0 := l.accepts.Load()
	ch, err := startChildren("connect", loops, d, addrEnv+"="+l.ln.Addr().String(), rateEnv+"="+strconv.Itoa(rate/loops))
	if err != nil {
		return r, err
	}
	time.Sleep(time.Until(ch.start))
	cpu0 := procCPU(col)
	outs, err := ch.wait()
	if err != nil {
		return r, fmt.Errorf("connect storm: %w", err)
	}
	for _, o := range outs {
		f := strings.Fields(o)
		if len(f) != 2 {
			return r, fmt.Errorf("connect storm: client printed %q", o)
		}
		ok, err1 := strconv.ParseUint(f[0], 10, 64)
		failed, err2 := strconv.ParseUint(f[1], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return r, fmt.Errorf("connect storm: client printed %q: %w", o, err)
		}
		r.connects += ok
		r.failed += failed
	}
	settle(r.connects+r.failed, 3*time.Second, time.Minute, func() uint64 { return pats.count(0) })
	time.Sleep(time.Second) // the last accepts
	r.accepts = l.accepts.Load() - accepts0
	settle(r.accepts, 3*time.Second, time.Minute, func() uint64 { return pats.count(1) })
	r.cpu = procCPU(col) - cpu0
	r.outSeen, r.inSeen = pats.count(0), pats.count(1)
	drops1, err := drops.read()
	if err != nil {
		return r, err
	}
	for k, v := range drops1 {
		r.allDrops += v - drops0[k]
	}
	r.connDrops = drops1[event.KindConn] - drops0[event.KindConn]
	return r, nil
}

func connectTableRow(r connectRow) string {
	target := "unlimited"
	if r.rate > 0 {
		target = fmt.Sprintf("%d/s", r.rate)
	}
	perRecord := "—"
	if n := r.outSeen + r.inSeen; n > 0 {
		perRecord = fmt.Sprintf("%.1f", float64(r.cpu.Microseconds())/float64(n))
	}
	return fmt.Sprintf("| %s | %d | %s | %s | %.0f | %d (%d) | %d | %d | %d | %d / %d | %d / %d | %.1f | %s |",
		r.collector, r.loops, target, r.load, float64(r.connects)/r.d.Seconds(), r.connects, r.failed, r.accepts, r.outSeen, r.inSeen,
		int64(r.connects+r.failed)-int64(r.outSeen), int64(r.accepts)-int64(r.inSeen), r.connDrops, r.allDrops, 100*r.cpu.Seconds()/r.d.Seconds(), perRecord)
}
