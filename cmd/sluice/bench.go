package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/bench"
)

// newBenchCmd is `sluice bench`. An interrupt ends the run early and still prints its
// summary; invalid flag combinations exit 2, failed runs (errors, lost records) exit 1.
func newBenchCmd() *cobra.Command {
	cmd := bench.Command(os.Getenv)
	for _, sub := range cmd.Commands() {
		runE := sub.RunE
		sub.RunE = func(c *cobra.Command, args []string) error {
			parent := c.Context()
			if parent == nil {
				parent = context.Background()
			}
			ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
			defer stop()
			c.SetContext(ctx)
			err := runE(c, args)
			switch {
			case err == nil:
				return nil
			case errors.Is(err, bench.ErrUsage):
				return &exitError{code: exitUsage, err: err}
			default:
				return &exitError{code: exitFailed, err: err}
			}
		}
	}
	return cmd
}
