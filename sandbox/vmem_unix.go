//go:build unix

package sandbox

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// mmapAllocator backs each instance's linear memory with one anonymous
// mapping of the memory limit's size, reserved but not committed
// (MAP_NORESERVE): growing memory is a reslice instead of a copy of
// everything so far, untouched pages cost nothing, and closing an instance
// returns its pages to the OS at once instead of leaving hundreds of MB to
// the garbage collector. Pure Go: syscall.Mmap, no cgo.
type mmapAllocator struct{}

func memoryAllocator() experimental.MemoryAllocator { return mmapAllocator{} }

func (mmapAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	if max == 0 || max > 1<<32 {
		return nil
	}
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return &mmapMemory{buf: b}
}

type mmapMemory struct{ buf []byte }

func (m *mmapMemory) Reallocate(size uint64) []byte {
	if m.buf == nil || size > uint64(len(m.buf)) {
		return nil
	}
	return m.buf[:size:size]
}

func (m *mmapMemory) Free() {
	if m.buf != nil {
		_ = syscall.Munmap(m.buf)
		m.buf = nil
	}
}
