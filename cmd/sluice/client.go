package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/bench"
	"github.com/sluicehq/sluice/internal/cli/cluster"
	"github.com/sluicehq/sluice/internal/cli/configcmd"
	"github.com/sluicehq/sluice/internal/cli/consume"
	"github.com/sluicehq/sluice/internal/cli/group"
	"github.com/sluicehq/sluice/internal/cli/logdump"
	"github.com/sluicehq/sluice/internal/cli/produce"
	"github.com/sluicehq/sluice/internal/cli/topic"
)

// clientCommands are the client commands of internal/cli: topic, produce, consume, group,
// cluster, config and log. getenv looks the environment up (SLUICE_BROKERS). An interrupt
// cancels a command's context (consume then ends with success); usage errors exit 2, other
// failures 1.
func clientCommands(getenv func(string) string) []*cobra.Command {
	cmds := []*cobra.Command{
		topic.Command(getenv), produce.Command(getenv), consume.Command(getenv), group.Command(getenv),
		cluster.Command(getenv), configcmd.Command(getenv), logdump.Command(),
	}
	for _, c := range cmds {
		withExitCodes(c)
	}
	return cmds
}

// withExitCodes wraps the RunE of c and of every command below it (the client commands and
// `sluice bench`).
func withExitCodes(c *cobra.Command) {
	for _, sub := range c.Commands() {
		withExitCodes(sub)
	}
	runE := c.RunE
	if runE == nil {
		return
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		parent := cmd.Context()
		if parent == nil {
			parent = context.Background()
		}
		ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
		defer stop()
		cmd.SetContext(ctx)
		err := runE(cmd, args)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, cli.ErrUsage), errors.Is(err, bench.ErrUsage):
			return &exitError{code: exitUsage, err: err}
		default:
			return &exitError{code: exitFailed, err: err}
		}
	}
}
