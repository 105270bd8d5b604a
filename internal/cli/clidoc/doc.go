// Package clidoc renders a cobra command tree as one Markdown page (docs/CLI.md): a table of
// contents, then for every visible command its description, usage, examples and flags.
// The output depends only on the tree, so a test can compare it with the committed file.
// Hidden commands, cobra's own help and completion commands are left out.
package clidoc
