package policy

import "testing"

// BenchmarkOutputFields reads the fields of a text alert's output.
func BenchmarkOutputFields(b *testing.B) {
	out := "23:59:16.800000000: Notice A shell was spawned in a container with an attached terminal | evt_type=execve user=root " +
		"process=bash container_id=000000000000 container_name=main k8s_pod_name=kube-system-app-8-e69fdc96-00048 k8s_ns_name=kube-system"
	for b.Loop() {
		if outputFields(out).containerID != "000000000000" {
			b.Fatal("no container id")
		}
	}
}
