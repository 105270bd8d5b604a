package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// docs/CLI.md and docs/CONFIG.md are generated; they must match what the code renders.
func TestGeneratedDocsUpToDate(t *testing.T) {
	var cliMD, configMD bytes.Buffer
	if err := renderDocs(&cliMD, &configMD); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"CLI.md": cliMD.Bytes(), "CONFIG.md": configMD.Bytes()} {
		want, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Fatalf("%v (run go generate ./cmd/sluice, or make docs)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("docs/%s is out of date: run go generate ./cmd/sluice (or make docs) and commit the result", name)
		}
	}
	// The generated reference documents the client commands and leaves the hidden one out.
	for _, want := range []string{"## sluice topic create", "## sluice consume", "## sluice log dump", "## sluice group seek"} {
		if !bytes.Contains(cliMD.Bytes(), []byte(want)) {
			t.Errorf("CLI.md lacks %q", want)
		}
	}
	if bytes.Contains(cliMD.Bytes(), []byte("gen-docs")) {
		t.Error("CLI.md documents the hidden gen-docs command")
	}
}
