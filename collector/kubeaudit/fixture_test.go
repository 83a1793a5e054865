package kubeaudit

import (
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// fixtureRecord is one record testdata/k8s-audit/README.md describes.
type fixtureRecord struct {
	name string
	rec  record.Record
}

const testCluster = "prod-eu"

// fixtureRecords are the kube_exec records of webhook-eventlist.json and
// audit-log.jsonl (the same events), in the README's order, without pod
// scope beyond what the audit event names. Item 6 (pod log, pod list)
// gives nothing.
func fixtureRecords(t *testing.T) []fixtureRecord {
	return []fixtureRecord{
		{"1 kubectl 1.33 exec over WebSocket (get), started and ended", record.Record{
			Time:            ts(t, "2026-11-26T10:05:00.164512Z"), // its ResponseStarted
			EndTime:         uint64(ts(t, "2026-11-26T10:07:41.900001Z")),
			Source:          field.KubeExec,
			Cluster:         testCluster,
			Namespace:       "shop",
			Pod:             "woocommerce-6877958-x2b4q",
			Container:       "php",
			Resource:        "pods",
			Name:            "woocommerce-6877958-x2b4q",
			Subresource:     "exec",
			Command:         "bash",
			K8sUser:         "johndoe",
			K8sGroups:       "dev,system:authenticated",
			UserAgent:       "kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0",
			SourceAddresses: "203.0.113.7",
			AuditID:         "00c8decc-b988-4086-908b-fe8ec37b9380",
			ResponseCode:    101,
			ExecStdin:       true,
			ExecTTY:         true,
		}},
		{"2 older kubectl (SPDY, create) shell wrapper, two source IPs, EKS identity", record.Record{
			Time:            ts(t, "2026-11-26T10:08:10.020000Z"),
			EndTime:         uint64(ts(t, "2026-11-26T10:09:02.500000Z")),
			Source:          field.KubeExec,
			Cluster:         testCluster,
			Namespace:       "shop",
			Pod:             "mysql-0",
			Container:       "mysql",
			Resource:        "pods",
			Name:            "mysql-0",
			Subresource:     "exec",
			Command:         `sh -c 'command -v bash >/dev/null && exec bash || exec sh'`,
			K8sUser:         "alice@example.com",
			K8sGroups:       "system:masters,system:authenticated",
			UserAgent:       "kubectl/v1.28.4 (darwin/arm64) kubernetes/bae2c62",
			SourceAddresses: "198.51.100.23,10.0.0.1",
			AuditID:         "5f1d2c3b-0000-4a1b-9c2d-111111111111",
			ResponseCode:    101,
			ExecStdin:       true,
			ExecTTY:         true,
		}},
		{"3 exec refused by RBAC (403), its ResponseComplete only", record.Record{
			Time:            ts(t, "2026-11-26T10:10:00Z"), // requestReceivedTimestamp
			EndTime:         uint64(ts(t, "2026-11-26T10:10:00.003Z")),
			Source:          field.KubeExec,
			Cluster:         testCluster,
			Namespace:       "kube-system",
			Pod:             "coredns-5d78c9869d-abcde",
			Container:       "coredns",
			Resource:        "pods",
			Name:            "coredns-5d78c9869d-abcde",
			Subresource:     "exec",
			Command:         "cat /etc/resolv.conf",
			K8sUser:         "system:serviceaccount:ci:deployer",
			K8sGroups:       "system:serviceaccounts,system:serviceaccounts:ci,system:authenticated",
			UserAgent:       "Go-http-client/1.1",
			SourceAddresses: "10.244.1.7",
			AuditID:         "9a9a9a9a-1234-4567-89ab-222222222222",
			ResponseCode:    403,
		}},
		{"4 kubectl attach, started, its end never seen (emitted when the hold expires)", record.Record{
			Time:            ts(t, "2026-11-26T10:11:00.05Z"),
			Source:          field.KubeExec,
			Cluster:         testCluster,
			Namespace:       "shop",
			Pod:             "woocommerce-6877958-k9z7p",
			Container:       "php",
			Resource:        "pods",
			Name:            "woocommerce-6877958-k9z7p",
			Subresource:     "attach",
			K8sUser:         "johndoe",
			K8sGroups:       "dev,system:authenticated",
			UserAgent:       "kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0",
			SourceAddresses: "203.0.113.7",
			AuditID:         "7b7b7b7b-aaaa-bbbb-cccc-333333333333",
			ResponseCode:    101,
			ExecStdin:       true,
			ExecTTY:         true,
		}},
		{"5 kubectl debug (patch of ephemeralcontainers)", record.Record{
			Time:            ts(t, "2026-11-26T10:12:00Z"),
			EndTime:         uint64(ts(t, "2026-11-26T10:12:00.04Z")),
			Source:          field.KubeExec,
			Cluster:         testCluster,
			Namespace:       "shop",
			Pod:             "mysql-0",
			Resource:        "pods",
			Name:            "mysql-0",
			Subresource:     "ephemeralcontainers",
			K8sUser:         "alice@example.com",
			K8sGroups:       "system:masters,system:authenticated",
			UserAgent:       "kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0",
			SourceAddresses: "198.51.100.23",
			AuditID:         "6c6c6c6c-dddd-eeee-ffff-444444444444",
			ResponseCode:    200,
		}},
	}
}

// fixtureScoper knows the fixture's pods but coredns (its lookup fails).
var fixtureScoper = StaticScoper{
	"shop/woocommerce-6877958-x2b4q": {Workload: "woocommerce", WorkloadKind: "Deployment", Node: "node-a",
		Containers: []ContainerScope{{Name: "php", ID: strings.Repeat("a1", 32), Image: "docker.io/library/wordpress:6.4-php8.2"},
			{Name: "nginx", ID: strings.Repeat("b2", 32), Image: "nginx:1.27"}}},
	"shop/woocommerce-6877958-k9z7p": {Workload: "woocommerce", WorkloadKind: "Deployment", Node: "node-b",
		Containers: []ContainerScope{{Name: "php", ID: strings.Repeat("c3", 32), Image: "docker.io/library/wordpress:6.4-php8.2"}}},
	"shop/mysql-0": {Workload: "mysql", WorkloadKind: "StatefulSet", Node: "node-c",
		Containers: []ContainerScope{{Name: "mysql", ID: strings.Repeat("d4", 32), Image: "mysql:8.4"}}},
}

// scopedFixtureRecords are fixtureRecords as fixtureScoper scopes them.
func scopedFixtureRecords(t *testing.T) []fixtureRecord {
	recs := fixtureRecords(t)
	scope := map[string]func(r *record.Record){
		"00c8decc-b988-4086-908b-fe8ec37b9380": func(r *record.Record) {
			r.Workload, r.WorkloadKind, r.Host = "woocommerce", "Deployment", "node-a"
			r.ContainerID, r.Image = strings.Repeat("a1", 32), "docker.io/library/wordpress:6.4-php8.2"
		},
		"5f1d2c3b-0000-4a1b-9c2d-111111111111": func(r *record.Record) {
			r.Workload, r.WorkloadKind, r.Host = "mysql", "StatefulSet", "node-c"
			r.ContainerID, r.Image = strings.Repeat("d4", 32), "mysql:8.4"
		},
		// coredns: not known to the scoper; the record keeps the event's scope.
		"7b7b7b7b-aaaa-bbbb-cccc-333333333333": func(r *record.Record) {
			r.Workload, r.WorkloadKind, r.Host = "woocommerce", "Deployment", "node-b"
			r.ContainerID, r.Image = strings.Repeat("c3", 32), "docker.io/library/wordpress:6.4-php8.2"
		},
		// kubectl debug: the pod's scope, no container (the debug container
		// is named in the request body, which Metadata level does not log).
		"6c6c6c6c-dddd-eeee-ffff-444444444444": func(r *record.Record) {
			r.Workload, r.WorkloadKind, r.Host = "mysql", "StatefulSet", "node-c"
		},
	}
	for i := range recs {
		if f := scope[recs[i].rec.AuditID]; f != nil {
			f(&recs[i].rec)
		}
	}
	return recs
}

// fixtureScopeFailures is how many fixture records fixtureScoper cannot scope.
const fixtureScopeFailures = 1
