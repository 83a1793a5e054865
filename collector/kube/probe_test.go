package kube

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

func TestEnricherProbes(t *testing.T) {
	exec := func(argv ...string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: argv}}}
	}
	idDB, idWeb := cid("db"), cid("web")
	pod := newPod("db", "pg-0", thisNode,
		withContainer("postgres", "postgres:16", "containerd://"+idDB),
		withContainer("web", "nginx:1", "containerd://"+idWeb),
		func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = exec("/bin/sh", "-c", "pg_isready -U postgres")
			p.Spec.Containers[0].ReadinessProbe = exec("cat", "/tmp/ready")
			p.Spec.Containers[0].StartupProbe = exec("/probe.sh")
			p.Spec.Containers[1].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}}
		})
	pods, err := NewPods(newFakeClientset(), PodsOptions{Node: thisNode})
	if err != nil {
		t.Fatal(err)
	}
	pods.onPod(pod)

	type rec struct {
		id, session, cmdline string
		entry                bool
		source               field.Source
		probe                bool // want
	}
	tests := []struct {
		name    string
		records []rec
	}{
		{"exec liveness probe and its children", []rec{
			{idDB, "s1", `/bin/sh -c 'pg_isready -U postgres'`, true, field.Cmd, true},
			{idDB, "s1", "pg_isready -U postgres", false, field.Cmd, true},
			{idDB, "s1", "psql -c 'select 1'", false, field.Cmd, true},
		}},
		{"exec readiness probe", []rec{{idDB, "s2", "cat /tmp/ready", true, field.Cmd, true}}},
		{"exec startup probe", []rec{{idDB, "s3", "/probe.sh", true, field.Cmd, true}}},
		{"exec with other argv is a person's", []rec{
			{idDB, "s4", `/bin/sh -c 'pg_isready -U admin'`, true, field.Cmd, false},
			{idDB, "s4", "pg_isready -U admin", false, field.Cmd, false},
		}},
		{"probe argv in a container without that probe", []rec{{idWeb, "s5", "cat /tmp/ready", true, field.Cmd, false}}},
		{"probe argv typed inside a person's session", []rec{
			{idDB, "s6", "bash", true, field.Cmd, false},
			{idDB, "s6", "cat /tmp/ready", false, field.Cmd, false},
		}},
		{"a person's shell that ends by exec'ing the probe's argv", []rec{
			{idDB, "s8", `sh -c 'id; cat /tmp/ready'`, true, field.Cmd, false},
			{idDB, "s8", "cat /tmp/ready", true, field.Cmd, false},
		}},
		{"connection of a probe session is not a command", []rec{
			{idDB, "s7", "cat /tmp/ready", true, field.Cmd, true},
			{idDB, "s7", "", false, field.Net, false},
		}},
		{"no session", []rec{{idDB, "", "cat /tmp/ready", false, field.Cmd, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink()
			e, _ := newTestEnricher(pods, s, EnricherOptions{})
			for i, w := range tc.records {
				r := &record.Record{Source: w.source, ContainerID: w.id, Session: w.session, SessionEntry: w.entry, Cmdline: w.cmdline}
				if err := e.Write(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				if r.Probe != w.probe {
					t.Errorf("record %d (%q): probe = %v, want %v", i, w.cmdline, r.Probe, w.probe)
				}
			}
		})
	}

	t.Run("remembered sessions are bounded", func(t *testing.T) {
		s := newSink()
		e, _ := newTestEnricher(pods, s, EnricherOptions{MaxProbeSessions: 2})
		for i := range 3 {
			r := &record.Record{Source: field.Cmd, ContainerID: idDB, Session: fmt.Sprint("p", i), SessionEntry: true, Cmdline: "cat /tmp/ready"}
			if err := e.Write(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		late := &record.Record{Source: field.Cmd, ContainerID: idDB, Session: "p0", Cmdline: "true"}
		if err := e.Write(context.Background(), late); err != nil {
			t.Fatal(err)
		}
		if late.Probe {
			t.Error("forgotten session still marked")
		}
		if n := testutil.ToFloat64(e.metrics.probeForgotten); n != 1 {
			t.Errorf("probe sessions forgotten = %v, want 1", n)
		}
	})
}
