// Package clitest runs the client commands of internal/cli in tests: a command tree built
// for a broker address, its output captured, and golden files compared with volatile parts
// (ids, timestamps, hosts) masked. It is imported only by tests.
package clitest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Env returns a getenv function that sets SLUICE_BROKERS to addr and nothing else.
func Env(addr string) func(string) string {
	return func(k string) string {
		if k == "SLUICE_BROKERS" {
			return addr
		}
		return ""
	}
}

// Result is what one command run printed and returned.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// Run builds a fresh command with build, runs it with args and stdin, and returns its
// output. The run is bounded by 60 s.
func Run(t testing.TB, build func() *cobra.Command, stdin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := build()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.ExecuteContext(ctx)
	return Result{Stdout: out.String(), Stderr: errb.String(), Err: err}
}

// MustRun is Run that fails the test when the command fails, and returns its stdout.
func MustRun(t testing.TB, build func() *cobra.Command, stdin string, args ...string) string {
	t.Helper()
	r := Run(t, build, stdin, args...)
	if r.Err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

var masks = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Topic and cluster ids (the ID row of `topic describe`, `cluster info`): 22
	// characters of URL-safe base64.
	{regexp.MustCompile(`(?m)^(ID\s+)[A-Za-z0-9_-]{22}$`), "${1}<id>"},
	// Member ids: client id, '-', a UUID.
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "<uuid>"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "<addr>"},
	{regexp.MustCompile(`/127\.0\.0\.1`), "/<host>"},
	// Millisecond timestamps of this century.
	{regexp.MustCompile(`\b1[6-9]\d{11}\b`), "<ms>"},
}

// Mask replaces what changes from run to run (ids, addresses, timestamps) with placeholders.
func Mask(s string) string {
	for _, m := range masks {
		s = m.re.ReplaceAllString(s, m.repl)
	}
	return s
}

// Golden compares got with testdata/<name>.golden; `go test -update` rewrites the file.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Fatalf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}
