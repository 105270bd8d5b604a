package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/bench"
)

// newBenchCmd is `sluice bench`. An interrupt ends the run early and still prints its
// summary; invalid flag combinations exit 2, failed runs (errors, lost records) exit 1.
func newBenchCmd() *cobra.Command {
	cmd := bench.Command(os.Getenv)
	withExitCodes(cmd)
	return cmd
}
