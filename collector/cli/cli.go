// Package cli is the collector's command line: its subcommands, their flags
// and their output.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the command failed
	ExitUsage = 2 // bad arguments or an invalid filter
)

// IO is where a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// errUsage marks errors that are the caller's: they exit with ExitUsage.
var errUsage = errors.New("usage")

// usageError is a usage error with a message.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdio IO) error
}

func commands() []command {
	return []command{
		{"run", "capture this node's commands and connections (needs root)", runCapture},
		{"store", "run the embedded, Loki-API-compatible store alone (no capture)", runStore},
		{"query", "list records, newest first (FILTER, --sources, --since or --from/--to, --limit, --json)", runQuery},
		{"groups", "count records by namespace > workload > pod (or --by host,container_id)", runGroups},
		{"trace", "show an exec session: its kube exec and its process tree with connections", runTrace},
		{"logql", "print the LogQL a filter compiles to (errors name the position)", runLogQL},
	}
}

const usageText = `collector — Activity Audit's node agent and command line

Usage:
  collector COMMAND [flags] [args]

Commands:
%s
Filters use Activity Audit's filter language, e.g.  comm="grep" namespace!="kube-system".
Run 'collector COMMAND -h' for a command's flags.
`

func usage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, usageText, b.String())
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdio IO) int {
	// `collector` and `collector --flags` mean `collector run`.
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help") {
		args = append([]string{"run"}, args...)
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		usage(stdio.Out)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, args[1:], stdio)
		switch {
		case err == nil:
			return ExitOK
		case errors.Is(err, flag.ErrHelp):
			return ExitOK
		case errors.Is(err, errUsage):
			fmt.Fprintf(stdio.Err, "collector %s: %s\n", name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
			return ExitUsage
		default:
			fmt.Fprintf(stdio.Err, "collector %s: %v\n", name, err)
			return ExitError
		}
	}
	fmt.Fprintf(stdio.Err, "collector: unknown command %q\n\n", name)
	usage(stdio.Err)
	return ExitUsage
}
