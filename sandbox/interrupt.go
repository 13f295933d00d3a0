package sandbox

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/sys"
)

// Stopping a run.
//
// By default (stopFuel) the module is instrumented (internal/instrument):
// every loop header takes one unit from a countdown, and when it runs out
// the program calls WASI's sched_yield. The host serves that call: it adds
// the fuel used to the run's meter (fuel.go), and ends the run there when
// the budget is spent or the run was interrupted from outside (the
// wall-clock backstop, the output limit, the caller's context). Sleeps are
// host calls that charge the budget and end the run themselves.
//
// stopChecks is wazero's WithCloseOnContextDone: a detour through Go at
// every loop header (3x on Python loops, 12-18x on C loops such as bigint
// arithmetic), and only a wall-clock limit. stopNone has no way to stop at
// all. Both are for benchmarks that show what the default costs.

type stopper int

const (
	stopFuel   stopper = iota // instrumented loops count fuel and call sched_yield
	stopChecks                // wazero's close-on-context-done checks (wall clock only)
	stopNone                  // no way to stop: benchmarks only
)

// yieldEvery is the most fuel spent between two calls to the host: the
// preemption points a looping program gives the Go scheduler.
const yieldEvery = 1 << 16

// Why a run was interrupted.
const (
	stopNoReason int32 = iota
	stopBudget         // the fuel budget is spent: deterministic
	stopWall           // the wall-clock backstop
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
	st := inst.stop
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
	st := inst.stop
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

// watch interrupts run gen when runCtx ends: at the wall-clock backstop, or
// because the caller's ctx ended. The returned function disarms the run and
// says why it was interrupted, if it was.
func (inst *instance) watch(gen uint64, ctx, runCtx context.Context) func() int32 {
	stop := context.AfterFunc(runCtx, func() {
		if ctx.Err() != nil {
			inst.interrupt(gen, stopCanceled)
		} else {
			inst.interrupt(gen, stopWall)
		}
	})
	return func() int32 {
		stop()
		st := inst.stop
		st.mu.Lock()
		defer st.mu.Unlock()
		st.armed = false
		return st.reason.Load()
	}
}

// yield serves the program's sched_yield, which instrumented loops call
// whenever the countdown runs out: it settles the fuel used, ends a run
// that was interrupted or has spent its budget, and reloads the countdown.
func (inst *instance) yield() {
	m := inst.meter
	m.settle()
	if inst.stop.reason.Load() != stopNoReason {
		panic(sys.NewExitError(sys.ExitCodeDeadlineExceeded))
	}
	if m.spent() {
		inst.budgetSpent()
	}
	m.reload()
}

// budgetSpent ends the running program because its budget is spent.
func (inst *instance) budgetSpent() {
	inst.stop.reason.CompareAndSwap(stopNoReason, stopBudget)
	panic(sys.NewExitError(sys.ExitCodeDeadlineExceeded))
}
