package main

import (
	"bytes"
	"strings"
	"testing"
)

// The client commands' exit codes: 2 for what the user typed wrong, 1 for what failed,
// and an error that says what to do.
func TestClientExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"missing argument", []string{"topic", "create"}, exitUsage, []string{"requires at least 1 arg"}},
		{"bad flag value", []string{"produce", "t", "--acks", "2", "-b", "127.0.0.1:1"}, exitUsage, []string{"--acks must be 0, 1 or all"}},
		{"bad broker address", []string{"topic", "list", "-b", "nohostport"}, exitUsage, []string{"host:port"}},
		{"bad position", []string{"group", "seek", "g", "--to", "soon"}, exitUsage, []string{"--to must be"}},
		{"unreachable broker", []string{"topic", "list", "-b", "127.0.0.1:1"}, exitFailed,
			[]string{"cannot reach a broker at 127.0.0.1:1", "is `sluice serve` running?", "SLUICE_BROKERS"}},
		{"missing file", []string{"log", "dump", "/nonexistent/00000000000000000000.log"}, exitFailed, []string{"no such file"}},
		{"help", []string{"consume", "--help"}, exitOK, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errb.String(), s) {
					t.Errorf("stderr lacks %q: %s", s, errb.String())
				}
			}
		})
	}
}
