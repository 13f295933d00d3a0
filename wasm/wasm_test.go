package wasm

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// The embedded artifacts are the ones SHA256SUMS describes.
func TestChecksums(t *testing.T) {
	f, err := os.Open("SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	py, err := Python()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"python.wasm.zst":            pythonZst,
		"stdlib.zip":                 stdlibZip,
		"python.wasm (uncompressed)": py,
	}
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		b, known := files[name]
		if !known {
			t.Fatalf("unknown file %q", name)
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 %x, SHA256SUMS says %s", name, got, sum)
		}
		seen++
	}
	if seen != len(files) {
		t.Fatalf("SHA256SUMS lists %d files, want %d", seen, len(files))
	}
	if !bytes.HasPrefix(py, []byte("\x00asm")) {
		t.Fatal("python.wasm is not a wasm module")
	}
}

func TestStdlib(t *testing.T) {
	zr, err := Stdlib()
	if err != nil {
		t.Fatal(err)
	}
	need := map[string]bool{}
	for _, m := range []string{"json/__init__", "re/__init__", "collections/__init__", "heapq", "bisect",
		"functools", "itertools" /* builtin */, "typing", "dataclasses", "fractions", "decimal",
		"statistics", "random", "datetime", "copy", "operator", "string", "unittest/__init__",
		"sortedcontainers/__init__", "encodings/utf_8", "doctest"} {
		need["lib/python3.11/"+m+".pyc"] = true
	}
	delete(need, "lib/python3.11/itertools.pyc")
	for _, f := range zr.File {
		delete(need, f.Name)
		if strings.HasSuffix(f.Name, ".py") {
			t.Errorf("source file %s: the stdlib ships as bytecode", f.Name)
		}
	}
	for m := range need {
		t.Errorf("missing %s", m)
	}
}
