// Package kubernetes holds the manifests that deploy Activity Audit on a
// cluster; its test decodes each of them strictly.
package kubernetes

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/client-go/kubernetes/scheme"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"

	"github.com/activityaudit/activityaudit/collector/cli"
)

// TestManifests decodes every document of every manifest strictly (an
// unknown or misspelt field is an error) with client-go's scheme, plus the
// audit policy and kubeconfig types the API server reads.
func TestManifests(t *testing.T) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{scheme.AddToScheme, auditv1.AddToScheme, clientcmdv1.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	decoder := serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()

	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r := utilyaml.NewYAMLReader(bufioReader(b))
			for n := 0; ; n++ {
				doc, err := r.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("document %d: %v", n, err)
				}
				if len(bytes.TrimSpace(stripComments(doc))) == 0 {
					continue
				}
				obj, gvk, err := decoder.Decode(doc, nil, nil)
				if err != nil {
					t.Fatalf("document %d: %v", n, err)
				}
				kinds = append(kinds, gvk.Kind)
				checkObject(t, obj)
			}
		})
	}
	for _, want := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet", "Deployment", "Service", "Policy", "Config"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no %s among the manifests (%v)", want, kinds)
		}
	}
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// stripComments drops YAML comment lines, to tell an empty document.
func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// runFlags are the flags `collector run` accepts, read from its help.
func runFlags(t *testing.T) map[string]bool {
	t.Helper()
	var out bytes.Buffer
	cli.Main(context.Background(), []string{"run", "--help"}, cli.IO{In: strings.NewReader(""), Out: &out, Err: &out})
	flags := map[string]bool{}
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "-") && !strings.HasPrefix(f[0], "--") {
			flags[strings.TrimPrefix(f[0], "-")] = true
		}
	}
	if len(flags) < 10 {
		t.Fatalf("read %d flags from `collector run --help`:\n%s", len(flags), out.String())
	}
	return flags
}

var knownFlags map[string]bool

// checkObject holds the workloads to what the collector needs and no more,
// and their arguments to flags `collector run` has.
func checkObject(t *testing.T, obj runtime.Object) {
	t.Helper()
	var spec *corev1.PodSpec
	switch o := obj.(type) {
	case *appsv1.DaemonSet:
		spec = &o.Spec.Template.Spec
		if !spec.HostPID {
			t.Error("the collector DaemonSet needs hostPID")
		}
	case *appsv1.Deployment:
		spec = &o.Spec.Template.Spec
	default:
		return
	}
	if knownFlags == nil {
		knownFlags = runFlags(t)
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s: privileged or no security context", c.Name)
			continue
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: root file system not read-only", c.Name)
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("%s: capabilities not dropped", c.Name)
		}
		for _, add := range sc.Capabilities.Add {
			if !slices.Contains([]corev1.Capability{"BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE"}, add) {
				t.Errorf("%s: capability %s beyond what capture needs", c.Name, add)
			}
		}
		for _, m := range c.VolumeMounts {
			if m.MountPath != "/var/lib/activity-audit" && !m.ReadOnly {
				t.Errorf("%s: %s mounted read-write", c.Name, m.MountPath)
			}
		}
		if len(c.Args) == 0 || c.Args[0] != "run" {
			t.Errorf("%s: args %q, want `run` first", c.Name, c.Args)
			continue
		}
		for _, a := range c.Args[1:] {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !strings.HasPrefix(a, "--") || !knownFlags[name] {
				t.Errorf("%s: argument %q is no flag of `collector run`", c.Name, a)
			}
		}
	}
}
