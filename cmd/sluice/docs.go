package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/clidoc"
	"github.com/sluicehq/sluice/internal/cli/connect"
	"github.com/sluicehq/sluice/internal/config"
)

//go:generate go run . gen-docs --dir ../../docs

// docsIntro opens docs/CLI.md.
const docsIntro = "Every command of the `sluice` binary. The broker is `sluice serve` (its configuration " +
	"keys are in [CONFIG.md](CONFIG.md)); the other commands are clients that talk to any Kafka-protocol " +
	"broker over the Kafka protocol.\n\n" +
	"Client commands find the brokers with `-b/--brokers host:port,...`, or the `" + connect.EnvBrokers +
	"` environment variable, or `" + connect.DefaultBrokers + "`. " +
	"Exit codes: 0 success, 1 failure (the error says what failed and what to do), 2 invalid arguments or flags."

// renderDocs writes docs/CLI.md (from the command tree) and docs/CONFIG.md (from
// internal/config's definitions) into the two writers. The tree is built afresh with
// SLUICE_BROKERS ignored, so flag defaults are the same wherever it runs.
func renderDocs(cliMD, configMD io.Writer) error {
	root := newDocsRoot()
	if err := clidoc.Markdown(cliMD, root, clidoc.Options{
		Title:  "Sluice command line",
		Notice: "Generated from the command definitions by `go generate ./cmd/sluice` (make docs); do not edit by hand.",
		Intro:  docsIntro,
	}); err != nil {
		return err
	}
	return config.RenderMarkdown(configMD)
}

// newDocsRoot is the command tree as documented: the defaults that come from the
// environment (SLUICE_BROKERS) are left at their built-in values.
func newDocsRoot() *cobra.Command {
	saved, had := os.LookupEnv(connect.EnvBrokers)
	os.Unsetenv(connect.EnvBrokers)
	defer func() {
		if had {
			os.Setenv(connect.EnvBrokers, saved)
		}
	}()
	return newRootCmd(io.Discard, io.Discard)
}

// newGenDocsCmd is the hidden `gen-docs` command that go generate runs.
func newGenDocsCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:    "gen-docs",
		Short:  "Write docs/CLI.md and docs/CONFIG.md",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cliMD, configMD bytes.Buffer
			if err := renderDocs(&cliMD, &configMD); err != nil {
				return err
			}
			for name, b := range map[string][]byte{"CLI.md": cliMD.Bytes(), "CONFIG.md": configMD.Bytes()} {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					return &exitError{code: exitFailed, err: err}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(dir, name))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "docs", "directory to write into")
	return cmd
}
