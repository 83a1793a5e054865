package storage

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// The generator makes activity records shaped like testdata/loki/dataset.json:
// 150 streams (5 hosts × 10 workloads × cmd/net/kube_exec), 50 pods, JSON
// lines of 200–500 bytes, metadata pod, container, container_id, exec_id and,
// for records of kube exec sessions, session.

type genWorkload struct {
	namespace, name, kind string
	containers            []string
	comms                 []string
}

var genWorkloads = []genWorkload{
	{"shop", "mysql", "StatefulSet", []string{"mysql"}, []string{"mysqld", "mysql", "sh", "mysqldump"}},
	{"shop", "woocommerce", "Deployment", []string{"php", "nginx"}, []string{"php", "php-fpm", "curl", "sh", "wp"}},
	{"shop", "redis", "StatefulSet", []string{"redis"}, []string{"redis-server", "redis-cli", "sh"}},
	{"shop", "nginx", "Deployment", []string{"nginx"}, []string{"nginx", "sh", "cat"}},
	{"kube-system", "coredns", "Deployment", []string{"coredns"}, []string{"coredns"}},
	{"kube-system", "kube-proxy", "DaemonSet", []string{"kube-proxy"}, []string{"kube-proxy", "iptables", "ip6tables", "conntrack"}},
	{"monitoring", "prometheus", "StatefulSet", []string{"prometheus", "config-reloader"}, []string{"prometheus", "wget", "sh"}},
	{"monitoring", "grafana", "Deployment", []string{"grafana"}, []string{"grafana", "sh", "wget"}},
	{"payments", "api", "Deployment", []string{"api", "envoy"}, []string{"java", "envoy", "sh", "curl"}},
	{"payments", "worker", "Deployment", []string{"worker"}, []string{"python3", "sh", "pg_dump", "gzip"}},
}

var genHosts = []string{"node-a", "node-b", "node-c", "node-d", "node-e"}

var genCmdlines = []string{
	"sh -c /usr/local/bin/healthcheck.sh",
	"curl -sf http://localhost:%d/healthz",
	"php /var/www/html/wp-cron.php --job=%d",
	"mysqldump --single-transaction shop_%d",
	"redis-cli -p 6379 INFO replication",
	"cat /etc/nginx/conf.d/site-%d.conf",
	"wget -qO- http://127.0.0.1:%d/metrics",
	"python3 /app/worker.py --queue=payments --batch=%d",
	"iptables-save -t nat",
	"conntrack -L -p tcp --dport %d",
	"gzip -9 /tmp/export-%d.sql",
	"java -Xmx512m -jar /app/api.jar --port=%d",
	"ls -la /var/lib/mysql",
	"ps aux",
	"bash",
	"vi /etc/hosts",
	"apt-get install -y netcat-openbsd",
	"nc -zv 10.0.1.%d 3306",
}

var genUsers = []string{"root", "www-data", "mysql", "redis", "nobody", "app"}

type genStream struct {
	labels             stream.Labels
	host, source, kind string
	pod, container     string
	containerID        string
	cgroup             string
	comms              []string
	workloadIdx        int
}

// genState makes records in time order.
type genState struct {
	rng     *rand.Rand
	streams []genStream
	weights []float64 // cumulative
	pids    []int     // next pid per host
	recent  [][]genProc
	session struct {
		id     string
		stream int
		left   int
	}
}

type genProc struct {
	execID string
	pid    int
	comm   string
}

func newGen(seed uint64) *genState {
	g := &genState{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for hi, h := range genHosts {
		for wi, w := range genWorkloads {
			pod := fmt.Sprintf("%s-%x-%s", w.name, g.rng.Uint32()&0xfffffff, randName(g.rng, 5))
			if w.kind == "StatefulSet" {
				pod = fmt.Sprintf("%s-%d", w.name, hi)
			}
			ctrs := make([]string, len(w.containers))
			ids := make([]string, len(w.containers))
			for i := range ctrs {
				ctrs[i] = w.containers[i]
				var b [32]byte
				for j := range b {
					b[j] = byte(g.rng.Uint32())
				}
				ids[i] = hex.EncodeToString(b[:])
			}
			podUID := fmt.Sprintf("%08x_%04x_%04x_%04x_%012x", g.rng.Uint32(), g.rng.IntN(1<<16), g.rng.IntN(1<<16), g.rng.IntN(1<<16), g.rng.Uint64()&(1<<48-1))
			for _, src := range []string{"cmd", "net", "kube_exec"} {
				ci := g.rng.IntN(len(ctrs))
				cgroup := "/kubepods/burstable/pod" + podUID + "/" + ids[ci][:12]
				g.streams = append(g.streams, genStream{
					labels: stream.FromMap(map[string]string{
						"cluster": "demo", "host": h, "job": "activity-audit",
						"namespace": w.namespace, "source": src, "workload": w.name,
					}),
					host: h, source: src, kind: w.kind, pod: pod,
					container: ctrs[ci], containerID: ids[ci], cgroup: cgroup, comms: w.comms, workloadIdx: wi,
				})
			}
		}
	}
	total := 0.0
	for _, s := range g.streams {
		w := map[string]float64{"cmd": 6, "net": 4, "kube_exec": 0.05}[s.source]
		w *= 0.5 + float64(s.workloadIdx%4)/2
		total += w
		g.weights = append(g.weights, total)
	}
	for i := range g.weights {
		g.weights[i] /= total
	}
	g.pids = make([]int, len(genHosts))
	for i := range g.pids {
		g.pids[i] = 1000 + g.rng.IntN(1000)
	}
	g.recent = make([][]genProc, len(g.streams))
	return g
}

func randName(r *rand.Rand, n int) string {
	const letters = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

func (g *genState) hostIndex(h string) int { return slices.Index(genHosts, h) }

// record makes one record at time ts; it returns the stream index.
func (g *genState) record(ts int64) (int, stream.Entry) {
	r := g.rng
	si := 0
	inSession := false
	if g.session.left > 0 && r.IntN(4) == 0 {
		si, inSession = g.session.stream, true
		g.session.left--
		if r.IntN(3) == 0 { // net record of the session's pod
			si = si - si%3 + 1
		}
	} else {
		si, _ = slices.BinarySearch(g.weights, r.Float64())
		si = min(si, len(g.streams)-1)
	}
	s := &g.streams[si]
	hi := g.hostIndex(s.host)
	md := stream.Labels{
		{Name: "container", Value: s.container},
		{Name: "container_id", Value: s.containerID},
		{Name: "pod", Value: s.pod},
	}
	var line strings.Builder
	line.Grow(512)
	line.WriteString(`{"workload_kind":"` + s.kind + `"`)
	switch s.source {
	case "kube_exec":
		// The start of a session: its records follow.
		g.pids[hi] += 1 + r.IntN(5)
		sess := s.host + ":" + strconv.FormatInt(ts, 10) + ":" + strconv.Itoa(g.pids[hi])
		g.session.id, g.session.stream, g.session.left = sess, si-2, 100+r.IntN(400)
		fmt.Fprintf(&line, `,"resource":"pods","name":%q,"subresource":"exec","command":"bash","k8s_user":"user%d","k8s_groups":"system:authenticated,dev","user_agent":"kubectl/v1.33.1 (linux/amd64) kubernetes/abc","source_addresses":"203.0.113.%d","audit_id":"%08x-%04x-4%03x-9%03x-%012x","response_code":101,"exec_stdin":true,"exec_tty":true}`,
			s.pod, r.IntN(20), r.IntN(255), r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&(1<<48-1))
		md = append(md, stream.Label{Name: "session", Value: sess})
	case "cmd":
		g.pids[hi] += 1 + r.IntN(5)
		pid := g.pids[hi]
		comm := s.comms[r.IntN(len(s.comms))]
		cmd := genCmdlines[r.IntN(len(genCmdlines))]
		if strings.Contains(cmd, "%d") {
			cmd = fmt.Sprintf(cmd, r.IntN(10000))
		}
		execID := s.host + ":" + strconv.FormatInt(ts%1e12, 10) + ":" + strconv.Itoa(pid)
		user := genUsers[r.IntN(len(genUsers))]
		fmt.Fprintf(&line, `,"comm":%q,"exe":"/usr/bin/%s","cmdline":%q,"cwd":"/var/www/html","pid":%d,"ppid":%d,"parent_comm":%q,"uid":%d,"user":%q,"gid":%d,"cgroup":%q`,
			comm, comm, cmd, pid, pid-1-r.IntN(50), s.comms[r.IntN(len(s.comms))], r.IntN(1001), user, r.IntN(1001), s.cgroup)
		if inSession {
			fmt.Fprintf(&line, `,"shell_id":%d,"shell_distance":%d,"tty":"pts/%d","k8s_user":"user%d"`, pid-r.IntN(100), r.IntN(4), r.IntN(4), r.IntN(20))
		}
		fmt.Fprintf(&line, `,"start_time":"%s","duration_ms":%d,"exit_code":%d}`,
			time.Unix(0, ts).UTC().Format(time.RFC3339Nano), r.IntN(5000), [4]int{0, 0, 0, 1 + r.IntN(127)}[r.IntN(4)])
		md = append(md, stream.Label{Name: "exec_id", Value: execID})
		g.recent[si] = append(g.recent[si], genProc{execID: execID, pid: pid, comm: comm})
		if len(g.recent[si]) > 16 {
			g.recent[si] = g.recent[si][1:]
		}
	case "net":
		procs := g.recent[si-1]
		p := genProc{execID: s.host + ":" + strconv.FormatInt(ts%1e12, 10) + ":1", pid: 1, comm: s.comms[0]}
		if len(procs) > 0 {
			p = procs[r.IntN(len(procs))]
		}
		dir := [2]string{"in", "out"}[r.IntN(2)]
		fmt.Fprintf(&line, `,"comm":%q,"exe":"/usr/bin/%s","pid":%d,"ppid":1,"direction":%q,"l4proto":"tcp","client_ip":"10.0.%d.%d","client_port":%d,"server_ip":"10.0.%d.%d","server_port":%d,"bytes_sent":%d,"bytes_received":%d,"duration_ms":%d,"sock_cookie":%d,"netns":%d}`,
			p.comm, p.comm, p.pid, dir, r.IntN(4), r.IntN(255), 32768+r.IntN(28000), r.IntN(4), r.IntN(255),
			[6]int{443, 80, 3306, 6379, 53, 8080}[r.IntN(6)], r.IntN(1<<20), r.IntN(1<<16), r.IntN(60000), r.Uint64()>>12, 4026531840+r.IntN(1000))
		md = append(md, stream.Label{Name: "exec_id", Value: p.execID})
	}
	if inSession && s.source != "kube_exec" {
		md = append(md, stream.Label{Name: "session", Value: g.session.id})
	}
	md.Sort()
	return si, stream.Entry{Time: ts, Line: line.String(), Metadata: md}
}

// batch makes n records with times from start, step apart (with jitter),
// grouped into streams as a push request is.
func (g *genState) batch(start, step int64, n int) []stream.Stream {
	idx := map[int]int{}
	var out []stream.Stream
	for i := range n {
		ts := start + int64(i)*step + g.rng.Int64N(max(step, 1))
		si, e := g.record(ts)
		j, ok := idx[si]
		if !ok {
			j = len(out)
			idx[si] = j
			out = append(out, stream.Stream{Labels: g.streams[si].labels})
		}
		out[j].Entries = append(out[j].Entries, e)
	}
	return out
}
