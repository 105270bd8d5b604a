package config

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestRenderGolden pins the generated documentation. After changing a definition, run
// `go test ./internal/config -run TestRenderGolden -update` and review the diff.
func TestRenderGolden(t *testing.T) {
	for _, tt := range []struct {
		file   string
		render func(*bytes.Buffer) error
	}{
		{"testdata/CONFIG.golden.md", func(b *bytes.Buffer) error { return RenderMarkdown(b) }},
		{"testdata/config.golden.txt", func(b *bytes.Buffer) error { return RenderText(b) }},
	} {
		var got, again bytes.Buffer
		if err := tt.render(&got); err != nil {
			t.Fatal(err)
		}
		if err := tt.render(&again); err != nil || !bytes.Equal(got.Bytes(), again.Bytes()) {
			t.Fatalf("%s: rendering twice gives different output", tt.file)
		}
		if *update {
			if err := os.WriteFile(tt.file, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s is out of date; run go test ./internal/config -run TestRenderGolden -update and review the diff", tt.file)
		}
	}
}

func TestRenderCoversEveryKey(t *testing.T) {
	var md, txt bytes.Buffer
	if err := RenderMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := RenderText(&txt); err != nil {
		t.Fatal(err)
	}
	for _, tab := range []*defTable{brokerTable, topicTable} {
		for i := range tab.list {
			n := tab.list[i].Name
			if !strings.Contains(md.String(), "#### `"+n+"`") {
				t.Errorf("Markdown lacks %s", n)
			}
			if !strings.Contains(txt.String(), "  "+n+"  (") {
				t.Errorf("text lacks %s", n)
			}
		}
	}
	for _, line := range strings.Split(txt.String(), "\n") {
		if len(line) > 80 && !strings.HasPrefix(line, "  ") {
			t.Errorf("text line longer than 80 columns: %q", line)
		}
		if strings.HasPrefix(line, "      ") && len(line) > 80 {
			t.Errorf("wrapped doc line longer than 80 columns: %q", line)
		}
	}
	// Markup in the docs must not turn into emphasis: __consumer_offsets stays literal.
	if !strings.Contains(md.String(), `\_\_consumer\_offsets`) {
		t.Error("underscores in names are not escaped in Markdown")
	}
}

func TestWrap(t *testing.T) {
	got := wrap("aa bb cc dddddddddd e", 5)
	want := []string{"aa bb", "cc", "dddddddddd", "e"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrap = %q, want %q", got, want)
	}
	if wrap("", 5) != nil {
		t.Error("wrap of empty text")
	}
}
