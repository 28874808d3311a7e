// Command protogen generates protocol/messages_gen.go from the message
// catalogue in protocol/spec/messages.spec: type ids and names, one struct
// per message, binary codecs for the dp:4.25.1 and dp:4.24.0 layouts and the
// dptxt field writers and readers.
//
// Usage (from protocol/generate.go):
//
//	go run ./internal/protogen -spec spec/messages.spec -out messages_gen.go
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	specPath := flag.String("spec", "spec/messages.spec", "message catalogue to read")
	out := flag.String("out", "messages_gen.go", "Go file to write")
	flag.Parse()
	if err := run(*specPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}

func run(specPath, out string) error {
	src, err := generateFile(specPath)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, src) {
		return nil // unchanged: keep the mtime
	}
	return os.WriteFile(out, src, 0o644)
}

// generateFile reads and parses the spec and returns the generated source.
// The header names the spec by its slash path relative to the output
// directory, so output does not depend on the machine.
func generateFile(specPath string) ([]byte, error) {
	f, err := os.Open(specPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := parseSpec(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", specPath, err)
	}
	return generate(s, filepath.ToSlash(specPath))
}
