package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// envCPUProfile names a file that receives a CPU profile of the whole command (for `serve`:
// from start to a clean stop), for `go tool pprof`. Benchmarks of the broker use it; it
// costs nothing when unset.
const envCPUProfile = "SLUICE_CPUPROFILE"

// addProfiling starts a CPU profile before any command runs when SLUICE_CPUPROFILE is set,
// and writes it when the command returns.
func addProfiling(root *cobra.Command) {
	path := os.Getenv(envCPUProfile)
	if path == "" {
		return
	}
	var f *os.File
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		var err error
		if f, err = os.Create(path); err != nil {
			return fmt.Errorf("%s: %w", envCPUProfile, err)
		}
		return pprof.StartCPUProfile(f)
	}
	// Cobra runs the post hook only after a successful RunE; a failed command's profile
	// still matters, so run() calls stop as well through finishProfiling.
	stop := func() {
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
			f = nil
		}
	}
	root.PersistentPostRun = func(*cobra.Command, []string) { stop() }
	finishProfiling = stop
}

// finishProfiling writes a profile still open when a command failed.
var finishProfiling = func() {}
