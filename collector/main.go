// Command collector is Activity Audit's node agent and command line: it
// records the commands and connections of a node and answers questions about
// them. See `collector help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/activityaudit/activityaudit/collector/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
