//go:build !unix

package sandbox

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator is wazero's default (Go slices) where mmap is missing.
func memoryAllocator() experimental.MemoryAllocator { return nil }
