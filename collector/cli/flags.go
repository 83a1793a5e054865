package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
)

// newFlagSet makes a flag set that reports errors instead of exiting.
func newFlagSet(name, args string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: collector %s [flags] %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, usageError("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// sourcesFlag is --sources cmd,net,kube_exec.
type sourcesFlag []field.Source

func (s *sourcesFlag) String() string {
	parts := make([]string, len(*s))
	for i, src := range *s {
		parts[i] = string(src)
	}
	return strings.Join(parts, ",")
}

func (s *sourcesFlag) Set(v string) error {
	*s = nil
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		src, ok := field.ParseSource(part)
		if !ok {
			return fmt.Errorf("unknown source %q: use cmd, net or kube_exec", part)
		}
		*s = append(*s, src)
	}
	return nil
}

// parseFilter reads a filter argument; an invalid one is a usage error that
// shows where the problem is.
func parseFilter(text string) (filter.Filter, error) {
	f, err := filter.Parse(text)
	if err == nil {
		return f, nil
	}
	var fe *filter.Error
	if e, ok := err.(*filter.Error); ok {
		fe = e
	}
	if fe == nil || strings.ContainsAny(text, "\n\r") {
		return filter.Filter{}, usageError("%v", err)
	}
	return filter.Filter{}, usageError("%v\n  %s\n  %s^", err, text, strings.Repeat(" ", fe.Column-1))
}
