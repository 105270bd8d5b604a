package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// TestNoDrift regenerates every package into a temporary directory and fails if the
// committed generated code differs, or if a committed generated file is no longer produced.
func TestNoDrift(t *testing.T) {
	root := repoRoot(t)
	spec := filepath.Join(root, "..", "shared", "kafka-spec")
	if _, err := os.Stat(spec); err != nil {
		t.Skipf("spec directory %s is absent; cannot check generated code for drift", spec)
	}
	tmp := t.TempDir()
	for _, p := range packages {
		files, err := loadDir(filepath.Join(spec, p.dir))
		if err != nil {
			t.Fatal(err)
		}
		if err := writePackage(filepath.Join(tmp, p.pkg), generatePackage(p, files)); err != nil {
			t.Fatal(err)
		}
		fresh, _ := filepath.Glob(filepath.Join(tmp, p.pkg, "*_gen.go"))
		committed, _ := filepath.Glob(filepath.Join(root, "internal", "protocol", p.pkg, "*_gen.go"))
		names := map[string]bool{}
		for _, f := range append(fresh, committed...) {
			names[filepath.Base(f)] = true
		}
		sorted := make([]string, 0, len(names))
		for n := range names {
			sorted = append(sorted, n)
		}
		sort.Strings(sorted)
		for _, name := range sorted {
			want, errW := os.ReadFile(filepath.Join(tmp, p.pkg, name))
			got, errG := os.ReadFile(filepath.Join(root, "internal", "protocol", p.pkg, name))
			switch {
			case errW != nil:
				t.Errorf("%s/%s is committed but no longer generated; run make generate", p.pkg, name)
			case errG != nil:
				t.Errorf("%s/%s is generated but not committed; run make generate", p.pkg, name)
			case !bytes.Equal(want, got):
				t.Errorf("%s/%s differs from the generator's output; run make generate", p.pkg, name)
			}
		}
	}
}

func TestStripComments(t *testing.T) {
	in := `{ "a": "x // not a comment", // a comment
  "b": "say \"//\" twice" // another
}`
	want := "{ \"a\": \"x // not a comment\", \n  \"b\": \"say \\\"//\\\" twice\" \n}"
	if got := string(stripComments([]byte(in))); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestCond(t *testing.T) {
	valid := vrange{lo: 0, hi: 11}
	for _, tc := range []struct {
		r    string
		want string
	}{
		{"0+", "true"}, {"3+", "version >= 3"}, {"0-2", "version <= 2"}, {"3-5", "version >= 3 && version <= 5"},
		{"4", "version == 4"}, {"none", "false"}, {"12+", "false"},
	} {
		if got := mustRange(tc.r, "test").cond(valid); got != tc.want {
			t.Errorf("cond(%s) = %q, want %q", tc.r, got, tc.want)
		}
	}
}
