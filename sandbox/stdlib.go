package sandbox

import (
	"fmt"
	"io"
	"io/fs"
	"sync"
	"testing/fstest"
	"time"

	"github.com/toppass/toppass/wasm"
)

// stdlibFS is the standard library as an in-memory, read-only file system,
// mounted at / in every instance: the only files a program can see. Files
// are seekable (CPython's importers need that), unlike zip entries.
var stdlibFS = sync.OnceValues(func() (fs.FS, error) {
	zr, err := wasm.Stdlib()
	if err != nil {
		return nil, fmt.Errorf("sandbox: stdlib: %w", err)
	}
	mod := time.Unix(1700000000, 0)
	m := fstest.MapFS{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("sandbox: stdlib %s: %w", f.Name, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("sandbox: stdlib %s: %w", f.Name, err)
		}
		m[f.Name] = &fstest.MapFile{Data: b, Mode: 0o444, ModTime: mod}
	}
	return m, nil
})
