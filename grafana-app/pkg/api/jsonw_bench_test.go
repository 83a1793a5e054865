package api

import "testing"

// BenchmarkPolicyEventsJSON writes a page of 100 policy events as the
// bench store's Falco alerts give them.
func BenchmarkPolicyEventsJSON(b *testing.B) {
	ev := PolicyEvent{
		ID: "93a2f5246eca25b6", Time: "1795651156800000000", Rule: "Terminal shell in container", Priority: "Notice", Source: "syscall",
		Hostname: "node-0", Tags: []string{"T1059", "container", "shell"},
		Output: "23:59:16.800000000: Notice A shell was spawned in a container with an attached terminal | evt_type=execve user=root " +
			"process=bash container_id=000000000000 container_name=main k8s_pod_name=kube-system-app-8-e69fdc96-00048 k8s_ns_name=kube-system",
		Format: "text", Namespace: "kube-system", Pod: "kube-system-app-8-e69fdc96-00048", ContainerID: "000000000000", ContainerName: "main",
		Activity: &ActivityLink{
			Filter: `namespace="kube-system" pod="kube-system-app-8-e69fdc96-00048" container_id=~"000000000000.*"`, From: 1795650856800, To: 1795651456800,
			Path: "/a/activityaudit-app/audit?from=1795650856800&to=1795651456800&filter=namespace%3D%22kube-system%22%20pod%3D%22kube-system-app-8-e69fdc96-00048%22%20container_id%3D~%22000000000000.%2A%22",
			Link: "http://grafana.test/a/activityaudit-app/audit?from=1795650856800&to=1795651456800&filter=namespace%3D%22kube-system%22%20pod%3D%22kube-system-app-8-e69fdc96-00048%22%20container_id%3D~%22000000000000.%2A%22",
		},
	}
	ans := PolicyEventsAnswer{Events: make([]PolicyEvent, 100)}
	for i := range ans.Events {
		ans.Events[i] = ev
	}
	buf := make([]byte, 0, 128<<10)
	for b.Loop() {
		buf = ans.appendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}
