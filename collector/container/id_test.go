package container

import (
	"strings"
	"testing"
)

const (
	hexA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	hexB = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
)

func TestIDFromPath(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		id      string
		runtime string
		ok      bool
	}{
		{"containerd systemd", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_0000_1111_2222_333344445555.slice/cri-containerd-" + hexA + ".scope", hexA, RuntimeContainerd, true},
		{"containerd cgroupfs", "/kubepods/burstable/pod1b2c3d4e-0000-1111-2222-333344445555/" + hexA, hexA, RuntimeContainerd, true},
		{"containerd cgroupfs besteffort", "/kubepods/besteffort/pod1b2c3d4e-0000-1111-2222-333344445555/" + hexA, hexA, RuntimeContainerd, true},
		{"containerd guaranteed cgroupfs", "/kubepods/pod1b2c3d4e-0000-1111-2222-333344445555/" + hexA, hexA, RuntimeContainerd, true},
		{"containerd literal systemd path", "/kubepods-besteffort-pod1b2c3d4e_0000_1111_2222_333344445555.slice:cri-containerd:" + hexA, hexA, RuntimeContainerd, true},
		{"docker cgroupfs", "/docker/" + hexA, hexA, RuntimeDocker, true},
		{"docker systemd", "/system.slice/docker-" + hexA + ".scope", hexA, RuntimeDocker, true},
		{"docker nested cgroup in container", "/system.slice/docker-" + hexA + ".scope/init.scope", hexA, RuntimeDocker, true},
		{"docker in docker gives the inner", "/docker/" + hexA + "/docker/" + hexB, hexB, RuntimeDocker, true},
		{"cri-o", "/kubepods.slice/kubepods-pod1b2c3d4e_0000_1111_2222_333344445555.slice/crio-" + hexA + ".scope", hexA, RuntimeCRIO, true},
		{"cri-o conmon is not a container", "/kubepods.slice/kubepods-pod1b2c3d4e_0000_1111_2222_333344445555.slice/crio-conmon-" + hexA + ".scope", "", "", false},
		{"podman", "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + hexA + ".scope", hexA, RuntimePodman, true},
		{"podman container sub-cgroup", "/machine.slice/libpod-" + hexA + ".scope/container", hexA, RuntimePodman, true},
		{"podman conmon is not a container", "/machine.slice/libpod-conmon-" + hexA + ".scope", "", "", false},
		{"podman cgroupfs", "/libpod_parent/libpod-" + hexA, hexA, RuntimePodman, true},
		{"plain runc custom path", "/aatest/" + hexA, hexA, RuntimeRunc, true},
		{"plain runc deeper path", "/tenants/a/b/" + hexA, hexA, RuntimeRunc, true},
		{"unknown prefix", "/mine/box-" + hexA, hexA, RuntimeRunc, true},
		{"root", "/", "", "", false},
		{"empty", "", "", "", false},
		{"user session", "/user.slice/user-0.slice/session-3.scope", "", "", false},
		{"kubepods slice only", "/kubepods.slice/kubepods-burstable.slice", "", "", false},
		{"63 hex", "/docker/" + hexA[1:], "", "", false},
		{"upper-case hex is not an id", "/docker/" + strings.ToUpper(hexA), "", "", false},
		{"hex glued to a word", "/x/abc" + hexA, "", "", false},
		{"65 hex", "/docker/a" + hexA, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, runtime, ok := IDFromPath(tt.path)
			if id != tt.id || runtime != tt.runtime || ok != tt.ok {
				t.Errorf("IDFromPath(%q) = %q, %q, %v; want %q, %q, %v", tt.path, id, runtime, ok, tt.id, tt.runtime, tt.ok)
			}
		})
	}
}

func TestPodUIDFromPath(t *testing.T) {
	tests := []struct {
		name string
		path string
		uid  string
		ok   bool
	}{
		{"cgroupfs", "/kubepods/burstable/pod1b2c3d4e-0000-1111-2222-333344445555/" + hexA, "1b2c3d4e-0000-1111-2222-333344445555", true},
		{"systemd underscores", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_0000_1111_2222_333344445555.slice/cri-containerd-" + hexA + ".scope", "1b2c3d4e-0000-1111-2222-333344445555", true},
		{"guaranteed systemd", "/kubepods.slice/kubepods-pod1b2c3d4e_0000_1111_2222_333344445555.slice", "1b2c3d4e-0000-1111-2222-333344445555", true},
		{"static pod hash uid", "/kubepods/burstable/pod0123456789abcdef0123456789abcdef/" + hexA, "0123456789abcdef0123456789abcdef", true},
		{"literal systemd path", "/kubepods-besteffort-pod1b2c3d4e_0000_1111_2222_333344445555.slice:cri-containerd:" + hexA, "1b2c3d4e-0000-1111-2222-333344445555", true},
		{"docker has no pod", "/docker/" + hexA, "", false},
		{"kubepods alone", "/kubepods/burstable", "", false},
		{"not a uid", "/kubepods/burstable/podxyz/" + hexA, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid, ok := PodUIDFromPath(tt.path)
			if uid != tt.uid || ok != tt.ok {
				t.Errorf("PodUIDFromPath(%q) = %q, %v; want %q, %v", tt.path, uid, ok, tt.uid, tt.ok)
			}
		})
	}
}

func TestInfoFromPath(t *testing.T) {
	p := "/kubepods/burstable/pod1b2c3d4e-0000-1111-2222-333344445555/" + hexA
	got, ok := InfoFromPath(p)
	want := Info{ID: hexA, Runtime: RuntimeContainerd, PodUID: "1b2c3d4e-0000-1111-2222-333344445555", CgroupPath: p}
	if !ok || got != want {
		t.Fatalf("InfoFromPath = %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := InfoFromPath("/system.slice/cron.service"); ok {
		t.Fatal("a service is not a container")
	}
}
