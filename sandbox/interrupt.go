package sandbox

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Stopping a run.
//
// By default (stopFlag) the module's loops are instrumented to test a word
// in linear memory (see internal/instrument); to stop a run the host stores
// 1 there and the next loop iteration traps. Sleeps are host calls and end
// the run themselves at the deadline. The word is 0 in the image, and a
// stopped instance is dropped, so a flag never outlives its run.
//
// stopChecks is wazero's WithCloseOnContextDone: the same guarantee, but a
// detour through Go at every loop header (3x on Python loops, ~18x on C
// loops such as bigint arithmetic). It is used where the flag cannot be:
// memory that moves (no mmap) or a module the instrumenter cannot read.

type stopper int

const (
	stopFlag   stopper = iota // instrumented loops test a flag word
	stopChecks                // wazero's close-on-context-done checks
	stopNone                  // no way to stop: benchmarks only
)

// flagSymbol is the exported global holding the flag word's address.
const flagSymbol = "toppass_interrupt"

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
	reason int32
	flag   *uint32 // the flag word in linear memory (stopFlag)
	cancel func()  // cancels the run's context (stopChecks)
}

// arm prepares a run: interrupts may set the flag until disarmed.
func (inst *instance) arm(kind stopper, cancel func()) {
	st := &inst.stop
	st.mu.Lock()
	defer st.mu.Unlock()
	st.armed, st.kind, st.reason, st.cancel = true, kind, stopNoReason, cancel
	st.flag = nil
	if kind == stopFlag {
		if g := inst.mod.ExportedGlobal(flagSymbol); g != nil {
			if view, ok := inst.mod.Memory().Read(uint32(g.Get()), 4); ok {
				st.flag = (*uint32)(unsafe.Pointer(&view[0]))
			}
		}
	}
}

// interrupt stops the armed run for reason (the first reason wins).
func (inst *instance) interrupt(reason int32) {
	st := &inst.stop
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.armed {
		return
	}
	if st.reason == stopNoReason {
		st.reason = reason
	}
	if st.flag != nil {
		atomic.StoreUint32(st.flag, 1)
	}
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
		return st.reason
	}
}
