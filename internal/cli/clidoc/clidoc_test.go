package clidoc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestMarkdown(t *testing.T) {
	root := &cobra.Command{Use: "tool", Short: "A tool"}
	parent := &cobra.Command{Use: "thing", Short: "Things"}
	parent.PersistentFlags().StringP("server", "s", "localhost:1", "where")
	sub := &cobra.Command{Use: "make NAME", Short: "Make a thing", Long: "Make a __thing__ <now>.\n\n  layout  kept\n\nDone.",
		Example: "  tool thing make x", Aliases: []string{"mk"}, RunE: func(*cobra.Command, []string) error { return nil }}
	sub.Flags().Int("count", 1, "how many")
	hidden := &cobra.Command{Use: "secret", Hidden: true, RunE: func(*cobra.Command, []string) error { return nil }}
	parent.AddCommand(sub)
	root.AddCommand(parent, hidden)
	var b bytes.Buffer
	if err := Markdown(&b, root, Options{Title: "Tool", Notice: "generated", Intro: "Hello."}); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"# Tool\n\n<!-- generated -->\n\nHello.\n",
		"- [`tool thing`](#tool-thing): Things\n  - [`tool thing make`](#tool-thing-make): Make a thing\n",
		"## tool thing make\n\nMake a \\_\\_thing\\_\\_ \\<now\\>.\n\n```\n  layout  kept\n```\n\nDone.\n",
		"```\ntool thing make NAME [flags]\n```",
		"Aliases: mk",
		"Examples:\n\n```\n  tool thing make x\n```",
		"Flags:\n\n```\n      --count int   how many (default 1)\n```",
		"Inherited flags:\n\n```\n  -s, --server string   where (default \"localhost:1\")\n```",
		"Subcommands: [`make`](#tool-thing-make)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "secret") {
		t.Errorf("hidden command documented:\n%s", got)
	}
}
