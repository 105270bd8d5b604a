package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// kv is an expected property with the line it starts on.
type kv struct {
	key, value string
	line       int
}

func parseAll(t *testing.T, src string) []kv {
	t.Helper()
	p, err := ParseProperties("test.properties", strings.NewReader(src))
	if err != nil {
		t.Fatalf("ParseProperties(%q): %v", src, err)
	}
	var out []kv
	for _, e := range p.All() {
		out = append(out, kv{e.Key, e.Value, e.Origin.Line})
	}
	return out
}

// The expectations follow java.util.Properties.load, which Kafka uses for server.properties.
func TestParsePropertiesSyntax(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []kv
	}{
		{"equals", "a=b", []kv{{"a", "b", 1}}},
		{"colon", "a:b", []kv{{"a", "b", 1}}},
		{"space", "a b", []kv{{"a", "b", 1}}},
		{"tab", "a\tb", []kv{{"a", "b", 1}}},
		{"form feed", "a\fb", []kv{{"a", "b", 1}}},
		{"blanks around separator", "a  =  b", []kv{{"a", "b", 1}}},
		{"trailing blanks kept", "a=b  ", []kv{{"a", "b  ", 1}}},
		{"second separator is value", "a = =b", []kv{{"a", "=b", 1}}},
		{"colon then equals", "a:=b", []kv{{"a", "=b", 1}}},
		{"blank equals colon", "a = : b", []kv{{"a", ": b", 1}}},
		{"leading blanks", " \t\fa=b", []kv{{"a", "b", 1}}},
		{"key only", "key", []kv{{"key", "", 1}}},
		{"key and separator", "key=", []kv{{"key", "", 1}}},
		{"empty key", "=value", []kv{{"", "value", 1}}},
		{"hash comment", "# c\na=b", []kv{{"a", "b", 2}}},
		{"bang comment", "! c\na=b", []kv{{"a", "b", 2}}},
		{"indented comment", "   # c\na=b", []kv{{"a", "b", 2}}},
		{"hash in value", "a=b # not a comment", []kv{{"a", "b # not a comment", 1}}},
		{"comment not continued", "# c \\\na=b", []kv{{"a", "b", 2}}},
		{"continuation", "a=b\\\n   c", []kv{{"a", "bc", 1}}},
		{"continuation keeps inner blanks", "a=b \\\n   c", []kv{{"a", "b c", 1}}},
		{"continuation of key", "ke\\\n  y=v", []kv{{"key", "v", 1}}},
		{"escaped backslash is no continuation", "a=b\\\\\nc=d", []kv{{"a", `b\`, 1}, {"c", "d", 2}}},
		{"three backslashes continue", "a=b\\\\\\\n c", []kv{{"a", `b\c`, 1}}},
		{"continued line starting with hash", "a=b\\\n#c", []kv{{"a", "b#c", 1}}},
		{"empty continuation line ends the line", "a=b\\\n\nc=d", []kv{{"a", "b", 1}, {"c", "d", 3}}},
		{"backslash at end of file", "a=b\\", []kv{{"a", "b", 1}}},
		{"backslash newline at end of file", "a=b\\\n", []kv{{"a", "b", 1}}},
		{"lone backslash then comment", "\\\n#c\na=b", []kv{{"a", "b", 1}}},
		{"control escapes", `a=\t\n\r\f`, []kv{{"a", "\t\n\r\f", 1}}},
		{"other escapes drop the backslash", `a=\x\y\\\=\:\#`, []kv{{"a", `xy\=:#`, 1}}},
		{"unicode escapes", `a=\u0041\u00e9\u00E9`, []kv{{"a", "Aéé", 1}}},
		{"surrogate pair", `a=\uD83D\uDE00`, []kv{{"a", "😀", 1}}},
		{"lone surrogate", `a=\uD83Dx`, []kv{{"a", "\uFFFDx", 1}}},
		{"escaped separators in key", `a\=b\:c\ d=e`, []kv{{"a=b:c d", "e", 1}}},
		{"escaped blank in key", `a\ b c`, []kv{{"a b", "c", 1}}},
		{"last duplicate wins, first position kept", "a=1\nb=2\na=3", []kv{{"a", "3", 3}, {"b", "2", 2}}},
		{"crlf", "a=1\r\nb=2\r\n", []kv{{"a", "1", 1}, {"b", "2", 2}}},
		{"cr only", "a=1\rb=2\r", []kv{{"a", "1", 1}, {"b", "2", 2}}},
		{"crlf continuation", "a=1\\\r\n  2\r\nb=3", []kv{{"a", "12", 1}, {"b", "3", 3}}},
		{"blank lines", "\n\n  \n\t\na=1\n\n", []kv{{"a", "1", 5}}},
		{"utf8 value", "a=é€", []kv{{"a", "é€", 1}}},
		{"latin1 fallback", "a=\xe9", []kv{{"a", "é", 1}}},
		{"empty input", "", nil},
		{"only comments", "# a\n! b\n", nil},
		{"line numbers", "\n\n# x\n  a=1\nb=2\\\n  3\nc=4", []kv{{"a", "1", 4}, {"b", "23", 5}, {"c", "4", 7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseAll(t, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parse %q:\n got %+v\nwant %+v", tt.src, got, tt.want)
			}
		})
	}
}

func TestParsePropertiesErrors(t *testing.T) {
	tests := []struct {
		src  string
		line int
	}{
		{`a=\u12`, 1},
		{"x=1\n\n" + `a=\u12G4`, 3},
		{`k\uZZZZ=1`, 1},
		{"x=1\ny=\\\n \\u00", 2},
	}
	for _, tt := range tests {
		_, err := ParseProperties("f.properties", strings.NewReader(tt.src))
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("parse %q: err = %v, want ErrSyntax", tt.src, err)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Origin.Line != tt.line || e.Origin.Name != "f.properties" {
			t.Errorf("parse %q: error %v, want it at f.properties:%d", tt.src, err, tt.line)
		}
	}
}

func TestParsePropertiesTooLarge(t *testing.T) {
	big := strings.Repeat("#", maxPropertiesBytes+1)
	if _, err := ParseProperties("big", strings.NewReader(big)); !errors.Is(err, ErrSyntax) {
		t.Fatalf("err = %v, want ErrSyntax for an oversized file", err)
	}
}

func TestOverrides(t *testing.T) {
	p, err := ParseProperties("f", strings.NewReader("a=1\nb=2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ApplyOverrides(p, []string{"b=x=y", "c=", "a=3", " d =\\t"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "3", "b": "x=y", "c": "", "d": `\t`}
	if got := p.Map(); !reflect.DeepEqual(got, want) {
		t.Errorf("after overrides got %q, want %q", got, want)
	}
	if e, _ := p.Get("a"); e.Origin != originOverride {
		t.Errorf("a's origin = %v, want --override", e.Origin)
	}
	if e, _ := p.Get("a"); e.Origin.String() != "--override" {
		t.Errorf("origin string %q", e.Origin)
	}
	for _, bad := range []string{"novalue", "=v", "  =v"} {
		if err := ApplyOverrides(p, []string{bad}); !errors.Is(err, ErrSyntax) {
			t.Errorf("override %q: err = %v, want ErrSyntax", bad, err)
		}
	}
}

func TestPropsOrderAndMerge(t *testing.T) {
	a := NewProps(map[string]string{"z": "1", "a": "2"}, Origin{Name: "x"})
	if got := a.All(); got[0].Key != "a" || got[1].Key != "z" {
		t.Errorf("NewProps order = %v, want sorted", got)
	}
	b := &Props{}
	b.Set("z", "9", Origin{Name: "y"})
	b.Set("m", "8", Origin{Name: "y"})
	c := a.Clone()
	c.Merge(b)
	if got := c.Map(); !reflect.DeepEqual(got, map[string]string{"a": "2", "z": "9", "m": "8"}) {
		t.Errorf("merge = %v", got)
	}
	if a.Map()["z"] != "1" {
		t.Error("Clone shares state with the original")
	}
	var nilProps *Props
	if nilProps.Len() != 0 || nilProps.All() != nil || len(nilProps.Map()) != 0 {
		t.Error("nil Props is not empty")
	}
}
