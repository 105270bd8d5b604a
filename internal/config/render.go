package config

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// RenderMarkdown writes the documentation of every broker and topic key as Markdown, the
// content of docs/CONFIG.md. The output depends only on the definition tables, so it is
// stable from run to run and a golden test pins it.
func RenderMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("# Sluice configuration\n\n")
	p("<!-- Generated from internal/config; do not edit by hand. -->\n\n")
	p("Sluice reads Apache Kafka's property names, so a Kafka `server.properties` carries over. ")
	p("Set keys in a properties file given to `sluice serve`, or one at a time with ")
	p("`--override key=value`; flags override the file. Unknown keys are reported and ignored. ")
	p("Without a file, `sluice serve` starts a single-node cluster with these settings:\n\n```properties\n")
	defaults := SingleNodeDefaults()
	for _, k := range sortedKeys(defaults) {
		p("%s=%s\n", k, defaults[k])
	}
	p("```\n\n")
	p("Update modes are Kafka's: *read-only* keys are read at start; *per-broker* keys can be changed ")
	p("at runtime for one broker; *cluster-wide* keys for one broker or as the cluster default. ")
	p("Keys marked *informational* are accepted so that Kafka files load unchanged, but have no effect.\n\n")

	p("## Broker configs\n")
	var group Group
	for _, d := range brokerTable.sorted() {
		if d.Group != group {
			group = d.Group
			p("\n### %s\n", group)
		}
		p("\n#### `%s`\n\n%s\n\n", d.Name, markdownText(d.Doc))
		p("- Type: %s\n", typeWithUnit(d))
		p("- Default: %s\n", markdownDefault(d))
		if a := d.allowed(); d.Validator != nil && a != "" {
			p("- Valid values: %s\n", markdownCode(a))
		}
		p("- Importance: %s\n", d.Importance)
		p("- Update mode: %s\n", d.Mode)
		if d.Topic != "" {
			p("- Topic config: `%s`\n", d.Topic)
		}
		if d.Support == Informational {
			p("- Sluice: informational (no effect)\n")
		}
		if d.Differs != "" {
			p("- Differs from Kafka: %s\n", markdownText(d.Differs))
		}
	}

	p("\n## Topic configs\n\n")
	p("Set per topic when it is created or later with AlterConfigs (`sluice topic`, `kafka-configs.sh`, ")
	p("any admin client). A topic without an override takes the value of its broker synonyms, ")
	p("highest precedence first; the default shown is the one that applies when no broker key is set.\n")
	for _, d := range topicTable.sorted() {
		p("\n#### `%s`\n\n%s\n\n", d.Name, markdownText(d.Doc))
		p("- Type: %s\n", typeWithUnit(d))
		p("- Default: %s\n", markdownDefault(d))
		if a := d.allowed(); d.Validator != nil && a != "" {
			p("- Valid values: %s\n", markdownCode(a))
		}
		if len(d.Synonyms) > 0 {
			p("- Broker synonyms: %s\n", markdownCodeList(d.Synonyms))
		}
		if d.Support == Informational {
			p("- Sluice: informational (no effect)\n")
		}
		if d.Differs != "" {
			p("- Differs from Kafka: %s\n", markdownText(d.Differs))
		}
	}
	return bw.Flush()
}

// RenderText writes the documentation of every broker and topic key as plain text wrapped
// at 80 columns, for the command line's help.
func RenderText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	entry := func(d *Def) {
		p("  %s  (%s, default %s", d.Name, typeWithUnit(d), plainDefault(d))
		if d.Topic == "" && len(d.Synonyms) == 0 {
			p(", %s", d.Mode)
		} else if d.Topic != "" {
			p(", %s, topic config %s", d.Mode, d.Topic)
		}
		p(")\n")
		doc := plainText(d.Doc)
		if d.Validator != nil {
			doc += " Valid values: " + d.allowed() + "."
		}
		if len(d.Synonyms) > 0 {
			doc += " Broker synonyms: " + strings.Join(d.Synonyms, ", ") + "."
		}
		if d.Differs != "" {
			doc += " Sluice differs from Kafka: " + plainText(d.Differs)
		}
		for _, line := range wrap(doc, 80-6) {
			p("      %s\n", line)
		}
	}
	var group Group
	for _, d := range brokerTable.sorted() {
		if d.Group != group {
			if group != "" {
				p("\n")
			}
			group = d.Group
			p("%s\n\n", strings.ToUpper(string(group)))
		}
		entry(d)
	}
	p("\n%s\n\n", strings.ToUpper(string(GroupTopic)))
	for _, d := range topicTable.sorted() {
		entry(d)
	}
	return bw.Flush()
}

func typeWithUnit(d *Def) string {
	if u := d.Unit.String(); u != "" && d.Type.isInteger() {
		return d.Type.String() + ", " + u
	}
	return d.Type.String()
}

// topicDefault is the default of a topic key: its own, or that of its broker synonyms.
func topicDefault(d *Def) (Value, string) {
	if len(d.Synonyms) == 0 {
		if v, ok := topicTable.defaults[d.Name]; ok {
			return v, ""
		}
		return Value{def: d, null: true}, ""
	}
	var empty sources
	v, chain := topicValue(&empty, d, nil)
	if len(chain) == 0 {
		return v, ""
	}
	return v, chain[0].Name()
}

func defaultOf(d *Def) (v Value, from string) {
	if brokerTable.get(d.Name) == d {
		if d.NoDefault {
			return Value{def: d, null: true}, ""
		}
		return brokerDefault(d), ""
	}
	return topicDefault(d)
}

func markdownDefault(d *Def) string {
	v, from := defaultOf(d)
	if v.IsNull() {
		return "unset"
	}
	s := "`" + v.String() + "`"
	if v.String() == "" {
		s = `""`
	}
	if from != "" && from != d.Name {
		s += " (from `" + from + "`)"
	}
	return s
}

func plainDefault(d *Def) string {
	v, _ := defaultOf(d)
	switch {
	case v.IsNull():
		return "unset"
	case v.String() == "":
		return `""`
	}
	return v.String()
}

func markdownCode(s string) string {
	if strings.Contains(s, "`") {
		return markdownText(s)
	}
	return "`" + s + "`"
}

func markdownCodeList(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return strings.Join(out, ", ")
}

// markdownText escapes characters Markdown would read as markup (names like
// __consumer_offsets and SASL_SSL, a lone *), leaving `code spans` as they are.
func markdownText(s string) string {
	var b strings.Builder
	inCode := false
	for _, c := range s {
		if c == '`' {
			inCode = !inCode
		}
		if !inCode && strings.ContainsRune(`\*_<>[]|`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// plainText drops Markdown code quotes for the terminal.
func plainText(s string) string { return strings.ReplaceAll(s, "`", "") }

// wrap breaks text into lines of at most width columns at spaces (a longer word gets a line
// of its own).
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
