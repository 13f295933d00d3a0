// Package shareddata finds the benchmark data beside the project
// (../shared/data, or $TOPPASS_DATA) for the tests that check toppass
// against it. They skip, saying why, when it is absent and under -short
// (they take seconds to minutes).
package shareddata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the shared data folder, or skips t.
func Dir(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the shared-data checks")
	}
	dir := os.Getenv("TOPPASS_DATA")
	if dir == "" {
		// ../shared/data beside the repository, wherever the test runs.
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "humaneval", "problems.jsonl")); err != nil {
		t.Skipf("shared benchmark data not found at %s (set TOPPASS_DATA): skipping", dir)
	}
	return dir
}
