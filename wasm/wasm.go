// Package wasm holds toppass's CPython for WebAssembly: a reactor module
// (CPython 3.11 linked with a small embedding, wasm/embed/toppass.c) and the
// standard library as bytecode, both built by build.sh from Debian bookworm's
// python3.11 source with Debian's clang and wasi-libc.
//
// The artifacts are committed and embedded, the way ncruces/go-sqlite3 ships
// its SQLite: Go code sees them as data, so the toppass binary stays pure Go
// and static. SHA256SUMS says what they are; VERSION how they were made.
package wasm

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

//go:embed python.wasm.zst
var pythonZst []byte

//go:embed stdlib.zip
var stdlibZip []byte

//go:embed VERSION
var version string

var python = sync.OnceValues(func() ([]byte, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	b, err := dec.DecodeAll(pythonZst, nil)
	if err != nil {
		return nil, fmt.Errorf("wasm: decompress python.wasm: %w", err)
	}
	return b, nil
})

// Python returns the WebAssembly module (decompressed once per process).
func Python() ([]byte, error) { return python() }

// Stdlib returns the standard library as a zip of .pyc files under
// lib/python3.11/.
func Stdlib() (*zip.Reader, error) {
	return zip.NewReader(bytes.NewReader(stdlibZip), int64(len(stdlibZip)))
}

// Version describes the embedded build.
func Version() string { return version }
