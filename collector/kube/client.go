package kube

import (
	"errors"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ErrNotInCluster is returned (wrapped) by NewClientset when no kubeconfig
// is given and the process does not run in a pod: the collector then runs
// with host scope only.
var ErrNotInCluster = rest.ErrNotInCluster

// userAgent names the collector in the API server's logs and audit events.
const userAgent = "activityaudit-collector"

// NewClientset connects to the API server: with the kubeconfig file when
// one is given (its current context), else with the pod's service account
// (in-cluster config). Outside Kubernetes, with no kubeconfig, the error
// wraps ErrNotInCluster.
func NewClientset(kubeconfig string) (kubernetes.Interface, error) {
	var (
		cfg *rest.Config
		err error
	)
	if kubeconfig != "" {
		if cfg, err = restConfigFromFile(kubeconfig); err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
		}
	} else {
		cfg, err = rest.InClusterConfig()
		if errors.Is(err, rest.ErrNotInCluster) {
			return nil, fmt.Errorf("load in-cluster config (not in a pod, and no kubeconfig given): %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("load in-cluster config: %w", err)
		}
	}
	cfg.UserAgent = userAgent
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("make clientset: %w", err)
	}
	return cs, nil
}

// execExtensionKey is the cluster extension an exec credential plugin is
// given (clientcmd's clusterExtensionKey).
const execExtensionKey = "client.authentication.k8s.io/exec"

// restConfigFromFile reads a kubeconfig as kubectl does (its current
// context; exec plugins, auth providers, tokens, certificates).
func restConfigFromFile(path string) (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", path)
}
