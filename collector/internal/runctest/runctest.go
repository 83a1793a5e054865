// Package runctest runs busybox containers with runc for the collector's
// end-to-end tests: a bundle with a busybox-static rootfs, a cgroupsPath
// ending in a 64-hex id (so the collector sees a container), `runc run
// --detach`, `runc exec`, and clean-up of the container and its cgroups.
// It needs root, runc and busybox (Debian packages runc and busybox-static).
package runctest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/collector/container"
)

// Options set up a container.
type Options struct {
	// Init is the container's init argv (default: sleep 1000).
	Init []string
	// Applets are the busybox applets linked in /bin (default: sh, sleep).
	Applets []string
	// Files are written into the rootfs, by path relative to it
	// ("etc/passwd").
	Files map[string]string
}

// Available tells why containers cannot be run here; nil when they can.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("running containers needs root")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return fmt.Errorf("find runc (Debian package runc): %w", err)
	}
	if _, err := exec.LookPath("busybox"); err != nil {
		return fmt.Errorf("find busybox (Debian package busybox-static): %w", err)
	}
	return nil
}

// Container is a busybox container run by runc for a test.
type Container struct {
	// ID is runc's name of the container.
	ID string
	// Parent is the cgroup directory above the container's.
	Parent string
	// HexID is the last component of the container's cgroupsPath, the id
	// the collector reports for it.
	HexID string
	// InitPID is the init's pid (host pid namespace), once Run returned.
	InitPID int

	t        *testing.T
	runc     string
	state    string // runc --root
	bundle   string
	logs     *os.File
	cgroups  []string   // the init's /proc/<pid>/cgroup paths, for clean-up
	mu       sync.Mutex // guards execCmds: execs may start concurrently
	execCmds []*exec.Cmd
}

// New writes a bundle; Run starts it. It fails the test when containers
// cannot be run (see Available).
func New(t *testing.T, opts Options) *Container {
	t.Helper()
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	if len(opts.Init) == 0 {
		opts.Init = []string{"sleep", "1000"}
	}
	if len(opts.Applets) == 0 {
		opts.Applets = []string{"sh", "sleep"}
	}
	runc, _ := exec.LookPath("runc")
	busybox, _ := exec.LookPath("busybox")
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	c := &Container{
		t:      t,
		runc:   runc,
		state:  t.TempDir(),
		bundle: t.TempDir(),
		ID:     fmt.Sprintf("aatest-%d-%x", os.Getpid(), raw[:4]),
		Parent: fmt.Sprintf("aatest-%d-%x", os.Getpid(), raw[4:8]),
		HexID:  hex.EncodeToString(raw),
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "runc.log"))
	if err != nil {
		t.Fatal(err)
	}
	c.logs = logs
	t.Cleanup(func() { logs.Close() })

	rootfs := filepath.Join(c.bundle, "rootfs")
	bin := filepath.Join(rootfs, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(busybox, filepath.Join(bin, "busybox")); err != nil {
		t.Fatal(err)
	}
	for _, applet := range opts.Applets {
		if err := os.Symlink("busybox", filepath.Join(bin, applet)); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range opts.Files {
		path := filepath.Join(rootfs, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c.writeSpec(opts.Init)
	return c
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("open busybox: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("create busybox copy: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy busybox: %w", err)
	}
	return out.Close()
}

// writeSpec writes config.json: runc's default spec (its own pid and
// network namespaces, loopback up), non-interactive, init as the process,
// a read-only root, a cgroupsPath ending in a 64-hex id. The path is
// relative, so runc puts it under its own cgroup in each hierarchy (and
// the test's processes stay under the cgroups they were started in).
func (c *Container) writeSpec(init []string) {
	t := c.t
	c.Runc("spec", "--bundle", c.bundle)
	path := filepath.Join(c.bundle, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatalf("decode runc spec: %v", err)
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = init
	spec["root"] = map[string]any{"path": "rootfs", "readonly": true}
	spec["linux"].(map[string]any)["cgroupsPath"] = c.Parent + "/" + c.HexID
	out, err := json.MarshalIndent(spec, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// command is runc with the test's state directory; output goes to the log.
func (c *Container) command(args ...string) *exec.Cmd {
	cmd := exec.Command(c.runc, append([]string{"--root", c.state}, args...)...)
	// Files, not pipes: the container inherits them, and a pipe would
	// keep Wait waiting for as long as the container runs.
	cmd.Stdout, cmd.Stderr = c.logs, c.logs
	return cmd
}

// Runc runs a runc command to its end, failing the test if it fails.
func (c *Container) Runc(args ...string) {
	c.t.Helper()
	if err := c.command(args...).Run(); err != nil {
		c.t.Fatalf("runc %s: %v\n%s", strings.Join(args, " "), err, c.Log())
	}
}

// Log is what runc and the container's processes wrote.
func (c *Container) Log() string {
	b, _ := os.ReadFile(c.logs.Name())
	return string(b)
}

// Run starts the container detached and registers its clean-up.
func (c *Container) Run() {
	t := c.t
	t.Helper()
	t.Cleanup(c.cleanup)
	c.Runc("run", "--detach", "--bundle", c.bundle, c.ID)
	out, err := exec.Command(c.runc, "--root", c.state, "state", c.ID).Output()
	if err != nil {
		t.Fatalf("runc state: %v", err)
	}
	var st struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal(out, &st); err != nil || st.Pid == 0 {
		t.Fatalf("decode runc state %q: %v", out, err)
	}
	c.InitPID = st.Pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", st.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 {
			c.cgroups = append(c.cgroups, f[2])
		}
	}
}

// CgroupV2Path is the init's cgroup v2 path ("0::" in /proc/<pid>/cgroup),
// "" when it has none.
func (c *Container) CgroupV2Path() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", c.InitPID))
	if err != nil {
		c.t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p
		}
	}
	return ""
}

// Exec starts `runc exec` in the foreground (runc stays the parent, as
// containerd-shim's does) and returns it; clean-up waits for it.
func (c *Container) Exec(args ...string) *exec.Cmd {
	c.t.Helper()
	return c.ExecEnv(nil, args...)
}

// ExecEnv is Exec with environment variables (NAME=value) added to the
// exec'd process's, as the kubelet passes KUBERNETES_EXEC_AUDIT_ID.
func (c *Container) ExecEnv(env []string, args ...string) *exec.Cmd {
	c.t.Helper()
	runcArgs := []string{"exec"}
	for _, e := range env {
		runcArgs = append(runcArgs, "--env", e)
	}
	cmd := c.command(append(append(runcArgs, c.ID), args...)...)
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("runc exec: %v", err)
	}
	c.mu.Lock()
	c.execCmds = append(c.execCmds, cmd)
	c.mu.Unlock()
	return cmd
}

// Pids is what `runc ps` lists in the container.
func (c *Container) Pids() []int {
	c.t.Helper()
	out, err := exec.Command(c.runc, "--root", c.state, "ps", "--format", "json", c.ID).Output()
	if err != nil {
		c.t.Fatalf("runc ps: %v", err)
	}
	var pids []int
	if err := json.Unmarshal(out, &pids); err != nil {
		c.t.Fatalf("decode runc ps %q: %v", out, err)
	}
	return pids
}

// WaitFor polls until cond holds, failing the test after within (a bound
// for a stuck runc or a lost event, not a timing assertion).
func WaitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: gave up after %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *Container) cleanup() {
	_ = c.command("kill", c.ID, "KILL").Run()
	c.mu.Lock()
	cmds := c.execCmds
	c.mu.Unlock()
	for _, cmd := range cmds {
		_ = cmd.Wait()
	}
	_ = c.command("delete", "--force", c.ID).Run()
	// runc removes the container's cgroups, not the parent directory the
	// relative cgroupsPath made in each hierarchy.
	mounts, _ := os.ReadDir("/sys/fs/cgroup")
	for _, m := range mounts {
		for _, p := range c.cgroups {
			if filepath.Base(filepath.Dir(p)) != c.Parent {
				continue
			}
			_ = os.Remove(filepath.Join("/sys/fs/cgroup", m.Name(), p))
			_ = os.Remove(filepath.Join("/sys/fs/cgroup", m.Name(), filepath.Dir(p)))
		}
	}
	if _, err := os.Stat(filepath.Join(container.DefaultRoot(), c.Parent)); err == nil {
		c.t.Errorf("cgroup %s left behind", c.Parent)
	}
}
