package sandbox

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/sys"
)

// Stopping a run.
//
// By default (stopYield) the module's loops are instrumented to call WASI's
// sched_yield every 65,536 iterations (see internal/instrument); the host
// serves that call with a look at the run's stop state and ends the run
// there when it was interrupted (deadline, output limit, the caller's
// context). Sleeps are host calls and end the run themselves at the
// deadline.
//
// stopChecks is wazero's WithCloseOnContextDone: the same guarantee, but a
// detour through Go at every loop header (3x on Python loops, 12-18x on C
// loops such as bigint arithmetic). It is the fallback when the module
// cannot be instrumented.

type stopper int

const (
	stopYield  stopper = iota // instrumented loops call sched_yield
	stopChecks                // wazero's close-on-context-done checks
	stopNone                  // no way to stop: benchmarks only
)

// yieldEvery is how many loop iterations pass between two checks.
const yieldEvery = 1 << 16

// Why a run was interrupted.
const (
	stopNoReason int32 = iota
	stopDeadline
	stopOutput
	stopCanceled
)

type stopState struct {
	mu     sync.Mutex
	armed  bool
	kind   stopper
	reason atomic.Int32
	cancel func() // cancels the run's context (stopChecks)
}

// arm prepares a run: interrupts may set the flag until disarmed.
func (inst *instance) arm(kind stopper, cancel func()) {
	st := &inst.stop
	st.mu.Lock()
	defer st.mu.Unlock()
	st.armed, st.kind, st.cancel = true, kind, cancel
	st.reason.Store(stopNoReason)
}

// interrupt stops the armed run for reason (the first reason wins).
func (inst *instance) interrupt(reason int32) {
	st := &inst.stop
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.armed {
		return
	}
	st.reason.CompareAndSwap(stopNoReason, reason)
	if st.kind == stopChecks && st.cancel != nil {
		st.cancel()
	}
}

// watch interrupts the run at the timeout or when ctx ends. The returned
// function disarms (no store into memory can happen after it returns) and
// says why the run was interrupted, if it was.
func (inst *instance) watch(ctx context.Context, timeout time.Duration) func() int32 {
	t := time.AfterFunc(timeout, func() { inst.interrupt(stopDeadline) })
	stopCtx := context.AfterFunc(ctx, func() { inst.interrupt(stopCanceled) })
	return func() int32 {
		t.Stop()
		stopCtx()
		st := &inst.stop
		st.mu.Lock()
		defer st.mu.Unlock()
		st.armed = false
		return st.reason.Load()
	}
}

// yield serves the program's sched_yield, which instrumented loops call
// every yieldEvery iterations: it ends an interrupted run.
func (inst *instance) yield() {
	if inst.stop.reason.Load() != stopNoReason {
		panic(sys.NewExitError(sys.ExitCodeDeadlineExceeded))
	}
}
