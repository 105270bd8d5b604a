package config

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxPropertiesBytes bounds a properties file. Kafka's own server.properties is a few KiB;
// anything near this size is a mistake (a data file passed as config), and the bound keeps
// the parser's memory use proportional to something sane.
const maxPropertiesBytes = 8 << 20

// Prop is one key/value pair and where it came from.
type Prop struct {
	Key    string
	Value  string
	Origin Origin
}

// Props is an ordered set of properties. Setting a key again replaces its value and origin
// but keeps its first position, so listings follow the file. The zero value is empty and
// ready to use.
type Props struct {
	index map[string]int
	list  []Prop
}

// NewProps returns Props holding m, each with origin o, in sorted key order.
func NewProps(m map[string]string, o Origin) *Props {
	p := &Props{}
	for _, k := range sortedKeys(m) {
		p.Set(k, m[k], o)
	}
	return p
}

// Set sets key to value; a later Set of the same key wins, as a later line does in a file.
func (p *Props) Set(key, value string, o Origin) {
	if p.index == nil {
		p.index = make(map[string]int)
	}
	if i, ok := p.index[key]; ok {
		p.list[i] = Prop{Key: key, Value: value, Origin: o}
		return
	}
	p.index[key] = len(p.list)
	p.list = append(p.list, Prop{Key: key, Value: value, Origin: o})
}

// Get returns the property for key.
func (p *Props) Get(key string) (Prop, bool) {
	if p == nil {
		return Prop{}, false
	}
	i, ok := p.index[key]
	if !ok {
		return Prop{}, false
	}
	return p.list[i], true
}

// Len returns the number of distinct keys.
func (p *Props) Len() int {
	if p == nil {
		return 0
	}
	return len(p.list)
}

// All returns the properties in first-seen order.
func (p *Props) All() []Prop {
	if p == nil {
		return nil
	}
	return append([]Prop(nil), p.list...)
}

// Map returns the properties as a plain map.
func (p *Props) Map() map[string]string {
	m := make(map[string]string, p.Len())
	if p != nil {
		for _, e := range p.list {
			m[e.Key] = e.Value
		}
	}
	return m
}

// Merge sets every property of o on p; o wins where both have a key.
func (p *Props) Merge(o *Props) {
	if o == nil {
		return
	}
	for _, e := range o.list {
		p.Set(e.Key, e.Value, e.Origin)
	}
}

// Clone returns an independent copy.
func (p *Props) Clone() *Props {
	c := &Props{}
	c.Merge(p)
	return c
}

// ReadFile reads a Java .properties file (see ParseProperties).
func ReadFile(path string) (*Props, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return ParseProperties(path, f)
}

// ParseProperties reads properties in the syntax of java.util.Properties.load, which is what
// Kafka uses for server.properties, so a file means the same to Sluice as to Kafka:
//
//   - Lines end with \n, \r or \r\n. Leading spaces, tabs and form feeds are skipped.
//   - A line whose first non-blank character is # or ! is a comment. Blank lines are skipped.
//   - A line ending in an odd number of backslashes continues on the next line; the
//     backslash, the line break and the next line's leading blanks are dropped. A comment
//     line is never continued.
//   - The key ends at the first unescaped '=', ':' or blank. Blanks around the separator are
//     skipped; a second '=' or ':' after blanks belongs to the value ("a = =b" is "=b").
//     A line with only a key has the empty value.
//   - In keys and values \t \n \r \f are control characters, \uXXXX is a UTF-16 code unit
//     (surrogate pairs combine), and a backslash before any other character stands for that
//     character (\= \: \# \\ and "\ " for a space in a key).
//   - A repeated key: the last one wins.
//
// One deliberate difference: Java's Properties.load(InputStream), which Kafka calls, reads
// bytes as ISO-8859-1. Sluice reads UTF-8 when the input is valid UTF-8 (so paths and
// descriptions with non-ASCII characters survive) and falls back to ISO-8859-1 otherwise,
// which is exactly Java's reading of such a file.
//
// name is used in error messages and origins (a path, usually). Errors wrap ErrSyntax and
// carry the line number.
func ParseProperties(name string, r io.Reader) (*Props, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPropertiesBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config: reading %s: %w", name, err)
	}
	if len(data) > maxPropertiesBytes {
		return nil, &Error{Kind: ErrSyntax, Origin: Origin{Name: name},
			Reason: fmt.Sprintf("file is larger than %d bytes", maxPropertiesBytes)}
	}
	return parseProperties(name, decodeText(data))
}

// decodeText turns bytes into runes: UTF-8 if valid, otherwise ISO-8859-1 (one rune a byte).
func decodeText(data []byte) []rune {
	if utf8.Valid(data) {
		return []rune(string(data))
	}
	rs := make([]rune, len(data))
	for i, b := range data {
		rs[i] = rune(b)
	}
	return rs
}

func parseProperties(name string, src []rune) (*Props, error) {
	p := &Props{}
	lr := lineReader{src: src, line: 1}
	for {
		line, start, ok := lr.next()
		if !ok {
			return p, nil
		}
		keyEnd, valStart := splitKeyValue(line)
		o := Origin{Name: name, Line: start}
		key, err := unescape(line[:keyEnd])
		if err != nil {
			return nil, &Error{Kind: ErrSyntax, Origin: o, Reason: err.Error()}
		}
		val, err := unescape(line[valStart:])
		if err != nil {
			return nil, &Error{Kind: ErrSyntax, Origin: o, Key: key, Reason: err.Error()}
		}
		p.Set(key, val, o)
	}
}

func isPropBlank(c rune) bool { return c == ' ' || c == '\t' || c == '\f' }

// lineReader splits text into logical lines the way java.util.Properties does: comments and
// blank lines dropped, continuations joined, leading blanks skipped. Escapes other than the
// line-continuing backslash are left for unescape.
type lineReader struct {
	src    []rune
	pos    int
	line   int  // line number of src[pos]
	prevCR bool // the last rune read was \r, so a following \n ends no new line
}

// read returns the next rune and the line it is on.
func (r *lineReader) read() (rune, int) {
	c, at := r.src[r.pos], r.line
	r.pos++
	switch {
	case c == '\r':
		r.line++
	case c == '\n' && !r.prevCR:
		r.line++
	}
	r.prevCR = c == '\r'
	return c, at
}

// next returns the next logical line and the line number of its first character;
// ok is false at the end of the input.
func (r *lineReader) next() (buf []rune, start int, ok bool) {
	skipBlank := true           // skipping leading blanks of a natural line
	continuation := false       // at the start of a continuation line
	precedingBackslash := false // buf ends in an odd number of backslashes
	skipLF := false             // the line ended in \r; a \n right after belongs to it
	for {
		if r.pos >= len(r.src) {
			if len(buf) == 0 {
				return nil, 0, false
			}
			if precedingBackslash {
				buf = buf[:len(buf)-1] // a backslash at the very end continues nothing
			}
			return buf, start, true
		}
		c, at := r.read()
		if skipLF {
			skipLF = false
			if c == '\n' {
				continue
			}
		}
		if skipBlank {
			if isPropBlank(c) {
				continue
			}
			// Empty lines between logical lines are skipped, but an empty continuation
			// line ends the logical line (Java does the same).
			if !continuation && (c == '\r' || c == '\n') {
				continue
			}
			skipBlank = false
			continuation = false
		}
		if len(buf) == 0 && (c == '#' || c == '!') {
			// A comment runs to the end of the natural line, backslash or not.
			for r.pos < len(r.src) {
				if c, _ := r.read(); c == '\r' || c == '\n' {
					break
				}
			}
			if r.pos >= len(r.src) {
				return nil, 0, false
			}
			skipBlank = true
			continue
		}
		if c != '\n' && c != '\r' {
			if start == 0 {
				start = at
			}
			buf = append(buf, c)
			precedingBackslash = c == '\\' && !precedingBackslash
			continue
		}
		// End of a natural line.
		if len(buf) == 0 {
			skipBlank = true
			continue
		}
		if r.pos >= len(r.src) {
			if precedingBackslash {
				buf = buf[:len(buf)-1]
			}
			return buf, start, true
		}
		if !precedingBackslash {
			return buf, start, true
		}
		buf = buf[:len(buf)-1]
		skipBlank, continuation, precedingBackslash = true, true, false
		skipLF = c == '\r'
	}
}

// splitKeyValue finds where the key ends and the value starts in a logical line, following
// Properties.load: the key ends at the first unescaped '=', ':' or blank; blanks after it are
// skipped, and so is one '=' or ':' if the key ended at a blank.
func splitKeyValue(line []rune) (keyEnd, valStart int) {
	keyEnd, valStart = len(line), len(line)
	hasSep, backslash := false, false
	for i, c := range line {
		if !backslash && (c == '=' || c == ':') {
			keyEnd, valStart, hasSep = i, i+1, true
			break
		}
		if !backslash && isPropBlank(c) {
			keyEnd, valStart = i, i+1
			break
		}
		backslash = c == '\\' && !backslash
	}
	for valStart < len(line) {
		c := line[valStart]
		if !isPropBlank(c) {
			if hasSep || (c != '=' && c != ':') {
				break
			}
			hasSep = true
		}
		valStart++
	}
	return keyEnd, valStart
}

// unescape resolves backslash escapes in a key or value (see ParseProperties).
func unescape(s []rune) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	var pendingHigh rune = -1 // a \u high surrogate waiting for its low half
	flush := func() {
		if pendingHigh >= 0 {
			b.WriteRune(utf8.RuneError)
			pendingHigh = -1
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			flush()
			b.WriteRune(c)
			continue
		}
		i++
		if i >= len(s) {
			// Only reachable for a key, whose scan stops before a trailing backslash; Java
			// would read past the key here. Dropping the lone backslash is the sane reading.
			break
		}
		c = s[i]
		if c != 'u' {
			flush()
			switch c {
			case 't':
				c = '\t'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 'f':
				c = '\f'
			}
			b.WriteRune(c)
			continue
		}
		if i+4 >= len(s) {
			return "", fmt.Errorf(`malformed \uXXXX escape: need 4 hex digits`)
		}
		var u rune
		for _, h := range s[i+1 : i+5] {
			d := hexVal(h)
			if d < 0 {
				return "", fmt.Errorf(`malformed \uXXXX escape %q: need 4 hex digits`, string(s[i-1:i+5]))
			}
			u = u<<4 | d
		}
		i += 4
		switch {
		case utf16.IsSurrogate(u) && u < 0xDC00: // high half
			flush()
			pendingHigh = u
		case utf16.IsSurrogate(u): // low half
			if pendingHigh >= 0 {
				b.WriteRune(utf16.DecodeRune(pendingHigh, u))
				pendingHigh = -1
			} else {
				b.WriteRune(utf8.RuneError)
			}
		default:
			flush()
			b.WriteRune(u)
		}
	}
	flush()
	return b.String(), nil
}

func hexVal(c rune) rune {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return -1
}

// ParseOverride splits one --override argument, "key=value", at the first '='. The value is
// taken verbatim (no escapes), as Kafka's --override does.
func ParseOverride(arg string) (key, value string, err error) {
	k, v, ok := strings.Cut(arg, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return "", "", &Error{Kind: ErrSyntax, Origin: originOverride,
			Reason: fmt.Sprintf("%q is not key=value", arg)}
	}
	return strings.TrimSpace(k), v, nil
}

// ApplyOverrides sets each "key=value" argument on p, in order, so flags override the file
// and a later flag overrides an earlier one.
func ApplyOverrides(p *Props, args []string) error {
	for _, a := range args {
		k, v, err := ParseOverride(a)
		if err != nil {
			return err
		}
		p.Set(k, v, originOverride)
	}
	return nil
}
