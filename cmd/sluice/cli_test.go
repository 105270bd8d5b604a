package main

import (
	"bytes"
	"strings"
	"testing"
)

// The command line's contract without starting a broker: help lists every key, bad input
// exits 2 with the config package's message.
func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings
		stderr   []string
		noStdout bool
	}{
		{name: "version", args: []string{"version"}, code: exitOK, stdout: []string{"sluice "}},
		{name: "serve help lists every key with type and default", args: []string{"serve", "--help"}, code: exitOK,
			stdout: []string{"--override", "--config", "log.retention.hours  (int, hours, default 168",
				"sluice.log.flush.policy", "listeners", "max.message.bytes"}},
		{name: "invalid value", args: []string{"serve", "--override", "num.partitions=abc"}, code: exitUsage,
			stderr: []string{"invalid configuration", "num.partitions", "abc"}},
		{name: "override without equals", args: []string{"serve", "--override", "num.partitions"}, code: exitUsage,
			stderr: []string{"invalid configuration", "num.partitions"}},
		{name: "missing config file", args: []string{"serve", "--config", "/nonexistent/server.properties"}, code: exitUsage,
			stderr: []string{"/nonexistent/server.properties"}},
		{name: "unknown flag", args: []string{"serve", "--bogus"}, code: exitUsage, stderr: []string{"unknown flag"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitUsage, stderr: []string{"unknown command"}},
		{name: "unsupported roles", args: []string{"serve", "--override", "process.roles=broker",
			"--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "log.dirs=" + t.TempDir()}, code: exitUsage,
			stderr: []string{"process.roles"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errb.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, errb.String())
				}
			}
		})
	}
}
