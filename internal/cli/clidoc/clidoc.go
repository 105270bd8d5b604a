package clidoc

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Options add text around the generated reference.
type Options struct {
	// Title is the page's first heading.
	Title string
	// Intro is Markdown printed after the generated-file notice, before the contents.
	Intro string
	// Notice names how to regenerate the page.
	Notice string
}

// Markdown writes the reference of root and every visible command under it.
func Markdown(w io.Writer, root *cobra.Command, o Options) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n\n<!-- %s -->\n\n", o.Title, o.Notice)
	if o.Intro != "" {
		fmt.Fprintf(bw, "%s\n\n", strings.TrimSpace(o.Intro))
	}
	cmds := visible(root)
	fmt.Fprintf(bw, "## Commands\n\n")
	for _, c := range cmds[1:] {
		indent := strings.Repeat("  ", depth(c)-1)
		fmt.Fprintf(bw, "%s- [`%s`](#%s): %s\n", indent, c.CommandPath(), anchor(c.CommandPath()), c.Short)
	}
	for _, c := range cmds {
		section(bw, c)
	}
	return bw.Flush()
}

// visible returns root and its visible descendants, depth first, in cobra's order.
func visible(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" || sub.Deprecated != "" {
			continue
		}
		out = append(out, visible(sub)...)
	}
	return out
}

func depth(c *cobra.Command) int {
	d := 0
	for p := c; p.HasParent(); p = p.Parent() {
		d++
	}
	return d
}

// anchor is the id GitHub gives a heading: lower case, spaces to dashes, punctuation gone.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

func section(w *bufio.Writer, c *cobra.Command) {
	fmt.Fprintf(w, "\n## %s\n\n", c.CommandPath())
	text := c.Long
	if text == "" {
		text = c.Short
	}
	fmt.Fprintf(w, "%s\n", escape(strings.TrimSpace(text)))
	if c.Runnable() {
		fmt.Fprintf(w, "\n```\n%s\n```\n", c.UseLine())
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "\nAliases: %s\n", strings.Join(c.Aliases, ", "))
	}
	if c.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n\n```\n%s\n```\n", strings.TrimRight(c.Example, "\n"))
	}
	var subs []string
	for _, s := range visible(c)[1:] {
		if s.Parent() == c {
			subs = append(subs, fmt.Sprintf("[`%s`](#%s)", s.Name(), anchor(s.CommandPath())))
		}
	}
	if len(subs) > 0 {
		fmt.Fprintf(w, "\nSubcommands: %s\n", strings.Join(subs, ", "))
	}
	if fs := c.NonInheritedFlags(); fs.HasAvailableFlags() {
		fmt.Fprintf(w, "\nFlags:\n\n```\n%s```\n", fs.FlagUsages())
	}
	if fs := c.InheritedFlags(); fs.HasAvailableFlags() && c.Runnable() {
		fmt.Fprintf(w, "\nInherited flags:\n\n```\n%s```\n", fs.FlagUsages())
	}
}

// escape keeps Markdown from reading help text as markup: help text is plain text written
// for a terminal, where `*`, `_` and `<` mean nothing.
func escape(s string) string {
	var b strings.Builder
	inCode := false
	for _, line := range strings.Split(s, "\n") {
		// Lines indented by two or more spaces are layouts (tables, lists of resources):
		// keep them as a code block.
		code := strings.HasPrefix(line, "  ")
		if code != inCode {
			b.WriteString("```\n")
			inCode = code
		}
		if !code {
			line = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "<", `\<`, ">", `\>`).Replace(line)
		}
		b.WriteString(line + "\n")
	}
	if inCode {
		b.WriteString("```\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
