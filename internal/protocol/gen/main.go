// Command gen generates Sluice's Kafka wire codec from Apache Kafka's JSON message specs.
//
//	go run ./internal/protocol/gen -spec ../shared/kafka-spec -out internal/protocol
//
// It writes one Go package per persisted or wire schema family (message, metarecord,
// grouprecord, txnrecord, sharerecord) under -out. Output is gofmt'ed and deterministic:
// files, types and switch cases are emitted in sorted or spec order, so regenerating from
// the same specs reproduces the committed code byte for byte (a test checks this).
// Generated files end in _gen.go and start with the "Code generated" header; the generator
// deletes stale generated files in the packages it owns and never touches other files.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gen: "+format+"\n", args...)
	os.Exit(1)
}

// pkgSpec says which spec directory becomes which package.
type pkgSpec struct {
	dir  string // spec subdirectory
	pkg  string // Go package (and output subdirectory)
	kind string // "api", "meta" or "kv"
}

var packages = []pkgSpec{
	{dir: "message", pkg: "message", kind: "api"},
	{dir: "metadata", pkg: "metarecord", kind: "meta"},
	{dir: "group", pkg: "grouprecord", kind: "kv"},
	{dir: "transaction", pkg: "txnrecord", kind: "kv"},
	{dir: "share", pkg: "sharerecord", kind: "kv"},
}

const wireImport = "github.com/sluicehq/sluice/internal/protocol/wire"

func main() {
	spec := flag.String("spec", "../shared/kafka-spec", "directory holding Apache Kafka's message specs")
	out := flag.String("out", "internal/protocol", "directory holding the generated packages")
	flag.Parse()
	for _, p := range packages {
		files, err := loadDir(filepath.Join(*spec, p.dir))
		if err != nil {
			fatalf("%v", err)
		}
		generated := generatePackage(p, files)
		if err := writePackage(filepath.Join(*out, p.pkg), generated); err != nil {
			fatalf("%v", err)
		}
	}
}

// generatePackage returns file name -> formatted source for one package.
func generatePackage(p pkgSpec, files []*specFile) map[string][]byte {
	out := map[string][]byte{}
	var msgs []*message
	typeNames := map[string]string{}
	for _, f := range files {
		m := buildMessage(f)
		for _, s := range m.structs {
			if prev, ok := typeNames[s.name]; ok {
				fatalf("type %s defined by both %s and %s", s.name, prev, f.path)
			}
			typeNames[s.name] = f.path
		}
		msgs = append(msgs, m)
		var b buf
		emitMessage(&b, m)
		base := strings.TrimSuffix(filepath.Base(f.path), ".json")
		out[snake(base)+"_gen.go"] = source(p.pkg, b.String(), true)
	}
	var b buf
	switch p.kind {
	case "api":
		emitAPITable(&b, msgs)
		out["apis_gen.go"] = source(p.pkg, b.String(), false)
	case "meta":
		emitMetaTable(&b, msgs)
		out["records_gen.go"] = source(p.pkg, b.String(), false)
	case "kv":
		emitKeyTable(&b, msgs)
		out["keys_gen.go"] = source(p.pkg, b.String(), true)
	}
	return out
}

func source(pkg, body string, importWire bool) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	if importWire || strings.Contains(body, "wire.") {
		fmt.Fprintf(&b, "import %q\n\n", wireImport)
	}
	b.WriteString(body)
	src, err := format.Source(b.Bytes())
	if err != nil {
		fatalf("formatting %s: %v\n%s", pkg, err, b.String())
	}
	return src
}

// writePackage replaces the generated files of dir with files, leaving hand-written ones.
func writePackage(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*_gen.go"))
	if err != nil {
		return err
	}
	for _, name := range old {
		if _, keep := files[filepath.Base(name)]; keep {
			continue
		}
		src, err := os.ReadFile(name)
		if err == nil && bytes.HasPrefix(src, []byte(header[:len(header)-2])) {
			if err := os.Remove(name); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// snake turns "ProduceRequest" into "produce_request".
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				prev := s[i-1]
				nextLower := i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
				if (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9') || (prev >= 'A' && prev <= 'Z' && nextLower) {
					b.WriteByte('_')
				}
			}
			b.WriteRune(r + ('a' - 'A'))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
