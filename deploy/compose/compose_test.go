package compose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func load(t *testing.T) *types.Project {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompose(t *testing.T) {
	p := load(t)
	for _, name := range []string{"loki", "grafana", "collector", "falco", "falcosidekick", "demo"} {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
	}
	t.Run("collector: least privilege", func(t *testing.T) {
		c, err := p.GetService("collector")
		if err != nil {
			t.Fatal(err)
		}
		if c.Privileged {
			t.Error("privileged")
		}
		if c.Pid != "host" {
			t.Errorf("pid %q, want host", c.Pid)
		}
		slices.Sort(c.CapAdd)
		if want := []string{"BPF", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE"}; !slices.Equal(c.CapAdd, want) || !slices.Equal(c.CapDrop, []string{"ALL"}) {
			t.Errorf("cap_add %v cap_drop %v, want %v and ALL", c.CapAdd, c.CapDrop, want)
		}
		for _, v := range c.Volumes {
			if v.Type == types.VolumeTypeBind && !v.ReadOnly {
				t.Errorf("host mount %s is writable", v.Source)
			}
		}
	})
	t.Run("files the services mount exist in the repository", func(t *testing.T) {
		for _, s := range p.Services {
			for _, v := range s.Volumes {
				if v.Type != types.VolumeTypeBind || !strings.HasPrefix(v.Source, p.WorkingDir) {
					continue
				}
				rel, _ := filepath.Rel(p.WorkingDir, v.Source)
				if rel == "grafana-app/dist" || rel == "bin/libactivityaudit.so" {
					continue // built: mage grafanaBackend, npm run build, mage plugin
				}
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s mounts %s: %v", s.Name, rel, err)
				}
			}
		}
	})
	t.Run("start order waits for health", func(t *testing.T) {
		for _, name := range []string{"grafana", "collector", "falco"} {
			s, _ := p.GetService(name)
			if d, ok := s.DependsOn["loki"]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s does not wait for a healthy loki", name)
			}
		}
	})
}
