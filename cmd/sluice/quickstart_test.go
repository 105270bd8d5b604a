package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The quickstart is the block between <!-- quickstart --> and <!-- /quickstart --> in the
// README (testdata/quickstart.md until the README has it): shell commands, one per line, in
// a fenced block. This test runs them as written with sh, the built binary first on PATH,
// so the quickstart a newcomer copies keeps working. The `sluice serve &` line is replaced
// by a broker on ephemeral ports (SLUICE_BROKERS points the other commands at it), so that
// the test never touches localhost:9092.
func TestQuickstart(t *testing.T) {
	requireQuickstartTools(t)
	src, cmds := quickstartCommands(t)
	if len(cmds) == 0 || !strings.HasPrefix(cmds[0], "sluice serve") || !strings.HasSuffix(cmds[0], "&") {
		t.Fatalf("%s: the quickstart must start with `sluice serve &`, has %q", src, cmds)
	}
	bin := sluiceBinary(t)
	b := startBroker(t)
	requireAPIs(t, b.addr, append(dataPathAPIs, keyCreateTopics, 10 /* FindCoordinator */, 11 /* JoinGroup */, 15 /* DescribeGroups */)...)
	env := append(os.Environ(),
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SLUICE_BROKERS="+b.addr)
	outputs := map[string]string{}
	for _, c := range cmds[1:] {
		cmd := exec.Command("sh", "-c", c)
		cmd.Env = env
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: `%s` failed: %v\n%s", src, c, err, out)
		}
		t.Logf("$ %s\n%s", c, out)
		outputs[strings.Fields(c)[1]] = string(out) // by the subcommand's first word
		if strings.Contains(c, "|") {
			outputs[strings.Fields(c[strings.LastIndex(c, "|")+1:])[1]] = string(out)
		}
	}
	// What the quickstart shows is what a reader should see.
	for cmd, want := range map[string][]string{
		"produce": {"Produced 3 records"},
		"consume": {"alice 1 apple (partition 0, offset 0)", "dave 2 pears (partition 1, offset 0)", "alice 3 plums (partition 0, offset 1)"},
		"group":   {"GROUP        billing", "STATE        Empty", "TOTAL-LAG    0"},
		"bench":   {"records     100000", "errors      0"},
		"topic":   {"orders  OK"},
	} {
		for _, w := range want {
			if !strings.Contains(outputs[cmd], w) {
				t.Errorf("%s: output of `sluice %s` lacks %q:\n%s", src, cmd, w, outputs[cmd])
			}
		}
	}
}

// requireQuickstartTools skips when there is no POSIX shell to run the commands with.
func requireQuickstartTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"sh", "printf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s on PATH: %v", tool, err)
		}
	}
}

// quickstartCommands returns where the quickstart came from and its commands.
func quickstartCommands(t *testing.T) (string, []string) {
	t.Helper()
	src := filepath.Join("..", "..", "README.md")
	block, ok := quickstartBlock(t, src)
	if !ok {
		src = filepath.Join("testdata", "quickstart.md")
		if block, ok = quickstartBlock(t, src); !ok {
			t.Fatalf("%s has no <!-- quickstart --> block", src)
		}
	}
	var cmds []string
	inFence := false
	sc := bufio.NewScanner(strings.NewReader(block))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```"):
			inFence = !inFence
		case inFence && line != "" && !strings.HasPrefix(line, "#"):
			cmds = append(cmds, line)
		}
	}
	return src, cmds
}

// quickstartBlock returns the text between the quickstart markers of the file at path.
func quickstartBlock(t *testing.T, path string) (string, bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return "", false
		}
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- quickstart -->")
	if !ok {
		return "", false
	}
	block, _, ok := strings.Cut(rest, "<!-- /quickstart -->")
	return block, ok
}
