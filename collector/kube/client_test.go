package kube

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const kubeconfigTmpl = `apiVersion: v1
kind: Config
current-context: %CTX%
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: pki/ca.crt
    tls-server-name: kubernetes
- name: dev
  cluster:
    server: https://dev.example:6443
    insecure-skip-tls-verify: true
users:
- name: collector
  user:
    token: sekret
    client-certificate: pki/client.crt
    client-key: pki/client.key
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: ["--cluster", "dev"]
      interactiveMode: Never
contexts:
- name: prod
  context: {cluster: prod, user: collector}
- name: dev
  context: {cluster: dev, user: plugin}
- name: broken
  context: {cluster: nowhere, user: collector}
`

func writeKubeconfig(t *testing.T, ctx string) (path, dir string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(kubeconfigTmpl, "%CTX%", ctx)), 0o600); err != nil {
		t.Fatal(err)
	}
	// clientcmd checks that the files it is given exist.
	if err := os.MkdirAll(filepath.Join(dir, "pki"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ca.crt", "client.crt", "client.key"} {
		if err := os.WriteFile(filepath.Join(dir, "pki", f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path, dir
}

func TestRestConfigFromFile(t *testing.T) {
	t.Run("token and certificates, paths relative to the file", func(t *testing.T) {
		path, dir := writeKubeconfig(t, "prod")
		cfg, err := restConfigFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Host != "https://10.0.0.1:6443" || cfg.BearerToken != "sekret" || cfg.ServerName != "kubernetes" {
			t.Errorf("host %q token %q server name %q", cfg.Host, cfg.BearerToken, cfg.ServerName)
		}
		if want := filepath.Join(dir, "pki/ca.crt"); cfg.CAFile != want {
			t.Errorf("CAFile = %q, want %q", cfg.CAFile, want)
		}
		if cfg.CertFile != filepath.Join(dir, "pki/client.crt") || cfg.KeyFile != filepath.Join(dir, "pki/client.key") {
			t.Errorf("cert %q key %q", cfg.CertFile, cfg.KeyFile)
		}
	})
	t.Run("exec plugin", func(t *testing.T) {
		path, dir := writeKubeconfig(t, "dev")
		cfg, err := restConfigFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ExecProvider == nil || cfg.ExecProvider.Command != filepath.Join(dir, "bin/get-token") || !cfg.Insecure {
			t.Errorf("exec %+v insecure %v", cfg.ExecProvider, cfg.Insecure)
		}
	})
	for _, tc := range []struct{ name, ctx, want string }{
		{"unknown context", "staging", `context was not found for specified context: staging`},
		{"context naming no cluster", "broken", "no configuration has been provided"},
		{"no current context", "", "no configuration has been provided"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := writeKubeconfig(t, tc.ctx)
			if _, err := restConfigFromFile(path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNewClientset(t *testing.T) {
	t.Run("kubeconfig", func(t *testing.T) {
		path, _ := writeKubeconfig(t, "dev")
		if _, err := NewClientset(path); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("missing kubeconfig", func(t *testing.T) {
		_, err := NewClientset(filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "load kubeconfig") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("outside a cluster", func(t *testing.T) {
		t.Setenv("KUBERNETES_SERVICE_HOST", "")
		t.Setenv("KUBERNETES_SERVICE_PORT", "")
		if _, err := NewClientset(""); !errors.Is(err, ErrNotInCluster) {
			t.Errorf("err = %v, want ErrNotInCluster", err)
		}
	})
}
