package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// specFile is one JSON message definition (see SCHEMA-FORMAT.md in the spec directory).
type specFile struct {
	APIKey                *int         `json:"apiKey"`
	Type                  string       `json:"type"`
	Listeners             []string     `json:"listeners"`
	Name                  string       `json:"name"`
	ValidVersions         string       `json:"validVersions"`
	DeprecatedVersions    string       `json:"deprecatedVersions"`
	FlexibleVersions      string       `json:"flexibleVersions"`
	LatestVersionUnstable bool         `json:"latestVersionUnstable"`
	Fields                []*specField `json:"fields"`
	CommonStructs         []*specField `json:"commonStructs"`

	path string
}

type specField struct {
	Name             string       `json:"name"`
	Type             string       `json:"type"`
	Versions         string       `json:"versions"`
	NullableVersions string       `json:"nullableVersions"`
	TaggedVersions   string       `json:"taggedVersions"`
	FlexibleVersions string       `json:"flexibleVersions"`
	Tag              any          `json:"tag"`
	Default          any          `json:"default"`
	Ignorable        bool         `json:"ignorable"`
	MapKey           bool         `json:"mapKey"`
	EntityType       string       `json:"entityType"`
	About            string       `json:"about"`
	ZeroCopy         bool         `json:"zeroCopy"`
	Fields           []*specField `json:"fields"`
}

// stripComments removes // comments that are outside JSON strings, keeping line breaks so
// that JSON syntax errors still point at the right line.
func stripComments(src []byte) []byte {
	var out bytes.Buffer
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			out.WriteByte(c)
			switch c {
			case '\\':
				if i+1 < len(src) {
					i++
					out.WriteByte(src[i])
				}
			case '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out.WriteByte(c)
			continue
		}
		if c == '/' && i+1 < len(src) && src[i+1] == '/' {
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i < len(src) {
				out.WriteByte('\n')
			}
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

// loadDir reads every *.json spec in dir, sorted by file name.
func loadDir(dir string) ([]*specFile, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var files []*specFile
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(stripComments(raw)))
		dec.DisallowUnknownFields()
		dec.UseNumber()
		var f specFile
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		f.path = name
		files = append(files, &f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no specs in %s", dir)
	}
	return files, nil
}

// vrange is an inclusive version range; none is the empty range.
type vrange struct {
	lo, hi int
	none   bool
}

const openEnd = math.MaxInt16

func parseRange(s string) (vrange, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == "none":
		return vrange{none: true}, nil
	case strings.HasSuffix(s, "+"):
		lo, err := strconv.Atoi(strings.TrimSuffix(s, "+"))
		return vrange{lo: lo, hi: openEnd}, err
	case strings.Contains(s, "-"):
		a, b, _ := strings.Cut(s, "-")
		lo, err := strconv.Atoi(a)
		if err != nil {
			return vrange{}, err
		}
		hi, err := strconv.Atoi(b)
		return vrange{lo: lo, hi: hi}, err
	default:
		v, err := strconv.Atoi(s)
		return vrange{lo: v, hi: v}, err
	}
}

func mustRange(s, where string) vrange {
	r, err := parseRange(s)
	if err != nil {
		fatalf("%s: bad version range %q: %v", where, s, err)
	}
	return r
}

func (r vrange) contains(v int) bool { return !r.none && v >= r.lo && v <= r.hi }

// intersect returns the overlap of r and o.
func (r vrange) intersect(o vrange) vrange {
	if r.none || o.none {
		return vrange{none: true}
	}
	x := vrange{lo: max(r.lo, o.lo), hi: min(r.hi, o.hi)}
	if x.lo > x.hi {
		return vrange{none: true}
	}
	return x
}

// covers reports whether r includes all of o.
func (r vrange) covers(o vrange) bool {
	return o.none || (!r.none && r.lo <= o.lo && r.hi >= o.hi)
}

func (r vrange) String() string {
	switch {
	case r.none:
		return "none"
	case r.hi == openEnd:
		return fmt.Sprintf("%d+", r.lo)
	case r.lo == r.hi:
		return strconv.Itoa(r.lo)
	}
	return fmt.Sprintf("%d-%d", r.lo, r.hi)
}

// cond returns a Go boolean expression over `version` that is true for versions in r,
// simplified against valid (the versions the message can be at).
func (r vrange) cond(valid vrange) string {
	x := r.intersect(valid)
	if x.none {
		return "false"
	}
	needLo, needHi := x.lo > valid.lo, x.hi < valid.hi
	switch {
	case !needLo && !needHi:
		return "true"
	case x.lo == x.hi:
		return fmt.Sprintf("version == %d", x.lo)
	case needLo && needHi:
		return fmt.Sprintf("version >= %d && version <= %d", x.lo, x.hi)
	case needLo:
		return fmt.Sprintf("version >= %d", x.lo)
	}
	return fmt.Sprintf("version <= %d", x.hi)
}
