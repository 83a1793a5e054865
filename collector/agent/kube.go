package agent

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/activityaudit/activityaudit/collector/kube"
	"github.com/activityaudit/activityaudit/collector/kubeaudit"
	"github.com/activityaudit/activityaudit/collector/ship"
)

// PodsSource keeps this node's pods (a client-go informer) for the other
// sources: the kernel source's enrichment and the kube exec receiver's
// scope. It writes no records.
type PodsSource struct{ Pods *kube.Pods }

// Run runs the informer until ctx ends.
func (s PodsSource) Run(ctx context.Context, _ *ship.Writer) error { return s.Pods.Run(ctx) }

// Register exports the informer's metrics.
func (s PodsSource) Register(reg prometheus.Registerer) error { return s.Pods.Register(reg) }

// AuditSource records kube exec requests from the API server's audit
// webhook and/or audit log.
type AuditSource struct {
	Config kubeaudit.Config
	// Scoper fills the scope of the pod an exec targets; nil outside
	// Kubernetes.
	Scoper kubeaudit.Scoper

	reg prometheus.Registerer
}

// Register keeps reg: the receiver's metrics are registered when it starts.
func (a *AuditSource) Register(reg prometheus.Registerer) error {
	a.reg = reg
	return nil
}

// Run receives audit events into w until ctx ends, then writes the execs
// still waiting for their end.
func (a *AuditSource) Run(ctx context.Context, w *ship.Writer) error {
	if a.reg == nil {
		return errors.New("run kube exec capture: not registered")
	}
	c, err := kubeaudit.New(a.Config, w, a.Scoper, a.reg)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}
