package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// `sluice bench` as a user runs it against `sluice serve`: exit codes and a JSON summary
// whose counts match.
func TestBenchCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "produce", "--acks", "2"}, &out, &errb); code != exitUsage {
		t.Fatalf("bad --acks: exit %d, want %d (%s)", code, exitUsage, errb.String())
	}
	if !strings.Contains(errb.String(), "--acks") {
		t.Fatalf("stderr does not name the flag: %s", errb.String())
	}

	b := startBroker(t)
	for _, args := range [][]string{
		{"bench", "produce", "-b", b.addr, "--topic", "cli", "-n", "2000", "--partitions", "2", "--json"},
		{"bench", "consume", "-b", b.addr, "--topic", "cli", "--json"},
	} {
		out.Reset()
		errb.Reset()
		if code := run(args, &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errb.String())
		}
		var s struct {
			Records int64 `json:"records"`
		}
		if err := json.Unmarshal(out.Bytes(), &s); err != nil || s.Records != 2000 {
			t.Fatalf("%v: %d records (%v)\n%s", args, s.Records, err, out.String())
		}
	}
	// Nothing listens there: the run fails (exit 1), not a usage error.
	errb.Reset()
	if code := run([]string{"bench", "produce", "-b", "127.0.0.1:1", "-n", "1", "--timeout", "2s"}, &out, &errb); code != exitFailed {
		t.Fatalf("unreachable broker: exit %d, want %d (%s)", code, exitFailed, errb.String())
	}
}
