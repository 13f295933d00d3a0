// Package testbin builds the toppass binary for tests that run it as a
// process of its own (the daemon's and the language server's end-to-end
// tests).
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Main builds cmd/toppass (cmdDir, relative to the test's package) into a
// temporary folder, stores its path in *bin, runs the tests and exits; a
// build failure ends the run before any test.
func Main(m *testing.M, cmdDir string, bin *string) {
	dir, err := os.MkdirTemp("", "toppass-bin-")
	if err != nil {
		panic(err)
	}
	*bin = filepath.Join(dir, "toppass")
	if out, err := exec.Command("go", "build", "-o", *bin, cmdDir).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building toppass: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
