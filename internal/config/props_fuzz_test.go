package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// escapeProp writes s so that ParseProperties reads it back unchanged, as a key or value.
func escapeProp(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '\\', ' ', '=', ':', '#', '!':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// FuzzParseProperties checks that the parser never panics, stays fast on any input, reports
// sane line numbers, and that what it parses survives a write-and-reparse round trip.
func FuzzParseProperties(f *testing.F) {
	seeds := []string{
		"a=b", "a b", "a:b", "# c\na=b\\\n  c", "a=\\u0041\\uD83D\\uDE00", "a=\\u12",
		"\\\n#c\na=b", "a=b\\", "a=1\r\nb=2\rc=3", "k\\ e\\=y\\:=v", "\xff\xfe=\xe9",
		"listeners=PLAINTEXT://:9092,\\\n  CONTROLLER://:9093\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		p, err := ParseProperties("fuzz", bytes.NewReader(data))
		// Linear work: even the largest fuzz inputs parse in well under a second.
		if d := time.Since(start); d > time.Second {
			t.Fatalf("parsing %d bytes took %v", len(data), d)
		}
		if err != nil {
			return
		}
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
		var out strings.Builder
		for _, e := range p.All() {
			if e.Origin.Line < 1 || e.Origin.Line > lines {
				t.Fatalf("key %q at line %d of a %d-line input", e.Key, e.Origin.Line, lines)
			}
			out.WriteString(escapeProp(e.Key) + "=" + escapeProp(e.Value) + "\n")
		}
		again, err := ParseProperties("again", strings.NewReader(out.String()))
		if err != nil {
			t.Fatalf("reparse of %q: %v", out.String(), err)
		}
		if !reflect.DeepEqual(again.Map(), p.Map()) {
			t.Fatalf("round trip changed the properties:\n first %q\n again %q", p.Map(), again.Map())
		}
	})
}
