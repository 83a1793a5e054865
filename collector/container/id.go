// Package container tells which container a process is in from its cgroup:
// the container id and runtime from the cgroup path, and the path from the
// cgroup v2 id the kernel side reports.
package container

import "strings"

// Runtimes IDFromPath reports.
const (
	RuntimeContainerd = "containerd"
	RuntimeDocker     = "docker"
	RuntimeCRIO       = "cri-o"
	RuntimePodman     = "podman"
	// RuntimeRunc is a container whose cgroup names no runtime: a plain runc
	// run with its own cgroupsPath ending in a 64-hex id.
	RuntimeRunc = "runc"
)

// Info is a container as its cgroup tells it.
type Info struct {
	ID      string // 64 hex
	Runtime string // one of the Runtime constants
	// PodUID is the Kubernetes pod's uid, when the path carries it.
	PodUID string
	// CgroupPath is the cgroup v2 path, relative to the cgroup2 root ("/kubepods/...").
	CgroupPath string
}

// idLen is the length of a container id: 32 bytes in hex.
const idLen = 64

// prefixes of a systemd scope (or cgroupfs directory) name, before
// "-<id>", and the runtime each means.
var scopePrefixes = []struct{ prefix, runtime string }{
	{"cri-containerd", RuntimeContainerd},
	{"docker", RuntimeDocker},
	{"crio", RuntimeCRIO},
	{"libpod", RuntimePodman},
}

// IDFromPath finds the container in a cgroup path (as /proc/<pid>/cgroup
// shows it). The component nearest the leaf that names a container wins, so
// a cgroup nested in a container's (a container's own sub-cgroups, or
// docker-in-docker) gives the innermost container. A runtime's monitor
// (crio-conmon-*, libpod-conmon-*) is not a container.
func IDFromPath(cgroupPath string) (id, runtime string, ok bool) {
	parts := strings.Split(strings.Trim(cgroupPath, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		name := parts[i]
		if strings.Contains(name, "conmon") {
			return "", "", false
		}
		id, runtime, ok = idFromComponent(name)
		if !ok {
			continue
		}
		if runtime == "" {
			runtime = runtimeFromContext(parts[:i])
		}
		return id, runtime, true
	}
	return "", "", false
}

// idFromComponent reads one path component: "<64hex>", "<prefix>-<64hex>",
// either with ".scope", or systemd's "<slice>:<prefix>:<64hex>" as some
// set-ups write cgroupsPath literally. runtime is "" for a bare id.
func idFromComponent(name string) (id, runtime string, ok bool) {
	name = strings.TrimSuffix(name, ".scope")
	if len(name) < idLen {
		return "", "", false
	}
	id = name[len(name)-idLen:]
	if !isHex(id) {
		return "", "", false
	}
	if len(name) == idLen {
		return id, "", true
	}
	head := name[:len(name)-idLen]
	sep := head[len(head)-1]
	if sep != '-' && sep != ':' {
		return "", "", false
	}
	head = head[:len(head)-1]
	if i := strings.LastIndexByte(head, ':'); i >= 0 {
		head = head[i+1:]
	}
	for _, p := range scopePrefixes {
		if head == p.prefix {
			return id, p.runtime, true
		}
	}
	return id, RuntimeRunc, true
}

// runtimeFromContext names the runtime of a bare 64-hex component from
// the components above it: /docker/<id> is Docker's cgroupfs layout,
// /kubepods/.../pod<uid>/<id> the kubelet's cgroupfs layout (containerd's
// CRI; CRI-O names its own "crio-<id>"), anything else a plain runc run.
func runtimeFromContext(parents []string) string {
	if len(parents) > 0 && parents[len(parents)-1] == "docker" {
		return RuntimeDocker
	}
	for _, p := range parents {
		if strings.HasPrefix(p, "kubepods") {
			return RuntimeContainerd
		}
	}
	return RuntimeRunc
}

// PodUIDFromPath finds a Kubernetes pod uid in a cgroup path: cgroupfs's
// "pod<uid>" or systemd's "kubepods-<qos>-pod<uid with _ for ->.slice".
// Static pods' uids are 32 hex digits without dashes; both forms are taken.
func PodUIDFromPath(cgroupPath string) (string, bool) {
	parts := strings.Split(strings.Trim(cgroupPath, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		name := parts[i]
		if k := strings.IndexByte(name, ':'); k >= 0 {
			name = name[:k] // "<slice>:<prefix>:<id>"
		}
		name = strings.TrimSuffix(name, ".slice")
		j := strings.LastIndex(name, "pod")
		if j < 0 || (j > 0 && name[j-1] != '-') {
			continue
		}
		uid := strings.ReplaceAll(name[j+len("pod"):], "_", "-")
		if isPodUID(uid) {
			return uid, true
		}
	}
	return "", false
}

// isPodUID is a UUID (8-4-4-4-12 hex) or 32 hex digits.
func isPodUID(s string) bool {
	switch len(s) {
	case 32:
		return isHex(s)
	case 36:
		for i := 0; i < len(s); i++ {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if s[i] != '-' {
					return false
				}
				continue
			}
			if !isHexByte(s[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexByte(s[i]) {
			return false
		}
	}
	return true
}

func isHexByte(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f')
}

// InfoFromPath is IDFromPath and PodUIDFromPath together.
func InfoFromPath(cgroupPath string) (Info, bool) {
	id, runtime, ok := IDFromPath(cgroupPath)
	if !ok {
		return Info{}, false
	}
	pod, _ := PodUIDFromPath(cgroupPath)
	return Info{ID: id, Runtime: runtime, PodUID: pod, CgroupPath: cgroupPath}, true
}
