package daemon

import (
	"runtime"
	"syscall"
)

// background pins the calling goroutine to its OS thread and lowers that
// thread's scheduling priority (nice n): labelling and training then yield
// the CPU to requests at once under load, and lose nothing on an idle
// machine. The thread ends with the goroutine (it is never unlocked), so
// the lowered priority never reaches other work.
func background(n int) {
	runtime.LockOSThread()
	syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), n)
}
