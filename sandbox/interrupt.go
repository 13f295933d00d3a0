package sandbox

import (
	"context"
	"sync"
	"sync/atomic"

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
	gen    uint64 // counts runs; an interrupt for an older run is ignored
	armed  bool
	kind   stopper
	reason atomic.Int32
	cancel func() // cancels the run's context (stopChecks)
}

// arm prepares a run and returns its generation: interrupts for it take
// effect until it is disarmed.
func (inst *instance) arm(kind stopper, cancel func()) uint64 {
	st := &inst.stop
	st.mu.Lock()
	defer st.mu.Unlock()
	st.gen++
	st.armed, st.kind, st.cancel = true, kind, cancel
	st.reason.Store(stopNoReason)
	return st.gen
}

// interrupt stops run gen for reason (the first reason wins); it does
// nothing once that run is disarmed, even if it comes late.
func (inst *instance) interrupt(gen uint64, reason int32) {
	st := &inst.stop
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.armed || st.gen != gen {
		return
	}
	st.reason.CompareAndSwap(stopNoReason, reason)
	if st.kind == stopChecks && st.cancel != nil {
		st.cancel()
	}
}

// watch interrupts run gen when runCtx ends: at its deadline, or because
// the caller's ctx ended. The returned function disarms the run and says
// why it was interrupted, if it was.
func (inst *instance) watch(gen uint64, ctx, runCtx context.Context) func() int32 {
	stop := context.AfterFunc(runCtx, func() {
		if ctx.Err() != nil {
			inst.interrupt(gen, stopCanceled)
		} else {
			inst.interrupt(gen, stopDeadline)
		}
	})
	return func() int32 {
		stop()
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
