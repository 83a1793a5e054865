// Package kubeaudit captures kube exec requests (`kubectl exec`, `kubectl
// attach`, `kubectl debug`) from the Kubernetes API server's audit stream and
// turns them into kube_exec records.
//
// Two inputs feed one Processor: the audit webhook backend (Webhook: HTTPS,
// bearer token and/or client certificates; the body is an audit.k8s.io/v1
// EventList) and the audit log backend (LogTailer: one audit.k8s.io/v1 Event
// per line, followed across rotation with its position kept on disk).
//
// The Processor keeps one record per auditID: a ResponseStarted event is held
// for Config.Hold waiting for its ResponseComplete, so that short execs carry
// their end_time; an expired hold is emitted without it; a ResponseComplete
// with no ResponseStarted (a denied exec, kubectl debug's patch) is emitted at
// once. Records get the target pod's scope from a Scoper and go to a Sink
// (collector/ship.Writer fits), one batch at a time.
//
// Capture wires the configured parts; it is what `collector run` starts for
// --audit-webhook and --audit-log.
package kubeaudit
