package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// envPrefix starts the environment variable of each flag: --loki-url is
// ACTIVITYAUDIT_LOKI_URL.
const envPrefix = "ACTIVITYAUDIT_"

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// applySettings completes fs after the command line was parsed: a flag not
// given on the command line takes its environment variable, else its value
// in the YAML config file (keys are the flag names; a list sets a
// repeatable flag several times), else its default. Unknown keys and bad
// values are errors that name the file and line.
func applySettings(fs *flag.FlagSet, configFile string, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || f.Name == "config" {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", envName(f.Name), err))
			return
		}
		given[f.Name] = true
	})
	if err := errors.Join(errs...); err != nil {
		return usageError("%v", err)
	}
	if configFile == "" {
		return nil
	}
	b, err := os.ReadFile(configFile)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return usageError("config %s: %v", configFile, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return usageError("config %s line %d: want a mapping of setting names to values", configFile, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		name := key.Value
		if fs.Lookup(name) == nil || name == "config" {
			errs = append(errs, fmt.Errorf("line %d: unknown setting %q (settings are the flag names, e.g. loki-url)", key.Line, name))
			continue
		}
		if given[name] {
			continue
		}
		var values []*yaml.Node
		switch val.Kind {
		case yaml.ScalarNode:
			values = []*yaml.Node{val}
		case yaml.SequenceNode:
			values = val.Content
		default:
			errs = append(errs, fmt.Errorf("line %d: %s: want a value or a list of values", val.Line, name))
			continue
		}
		for _, v := range values {
			if v.Kind != yaml.ScalarNode {
				errs = append(errs, fmt.Errorf("line %d: %s: want a plain value", v.Line, name))
				continue
			}
			if err := fs.Set(name, v.Value); err != nil {
				errs = append(errs, fmt.Errorf("line %d: %s: %v", v.Line, name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return usageError("config %s: %v", configFile, err)
	}
	return nil
}
