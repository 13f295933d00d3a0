package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/toppass/toppass/sandbox/internal/instrument"
	"github.com/toppass/toppass/wasm"
)

// Time limits that do not depend on the machine.
//
// A wall-clock limit turns the machine's speed and load into verdicts: the
// same candidate passes on an idle machine and times out beside a compiler.
// So the limit of a run is a budget of fuel, counted inside the module: one
// unit per loop iteration of the interpreter's C code (every bytecode
// dispatch, every step of a bigint, string or list operation), and the
// length of a sleep. The same program with the same input uses the same
// fuel on any machine, idle or busy, so its label is a reproducible fact.
//
// The budget is given in seconds of native CPython: FuelPerSecond is the
// fuel that reference programs use per second of native CPython 3.11 on
// the machine it was calibrated on (`toppass calibrate` measures it again;
// docs/sandbox.md says how). A wall-clock backstop (Config.WallTimeout,
// WallFactor times the budget by default) still ends runs on a machine so
// slow or loaded that even the budget takes too long; such a run ends as
// StopWallTimeout, which is not reproducible and says so.
//
// Time inside the sandbox is virtual as well: time.monotonic, time.time
// and time.perf_counter advance with the fuel used, and time.sleep charges
// the budget and returns at once. A program that measures itself sees the
// same figures on every run.

// FuelPerSecond is the fuel worth one second of native CPython: about the
// 90th percentile of what HumanEval's canonical solutions use per native
// second (`toppass calibrate`; docs/sandbox.md has the figures). Most
// programs get their native time or more; the heaviest users of fuel
// (bigint-bound code) about half of it.
const FuelPerSecond = 400_000_000

// WallFactor and WallSlack set the default wall-clock backstop: WallFactor
// times the budget, plus WallSlack. The slowest programs measured spend
// about 22 M fuel per second in the sandbox, so spending a whole budget
// can take 18 times the budget on an idle machine; the factor leaves room
// for a machine three times slower or busier.
const (
	WallFactor = 60
	WallSlack  = 10 * time.Second
)

// FuelFor is the fuel budget of a limit given in native CPython time.
func FuelFor(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	f := d.Seconds() * FuelPerSecond
	if f >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return max(int64(f), 1)
}

// FuelTime is the native CPython time that fuel is worth.
func FuelTime(fuel int64) time.Duration {
	return time.Duration(float64(fuel) / FuelPerSecond * float64(time.Second))
}

// defaultWall is the backstop for a budget.
func defaultWall(budget time.Duration) time.Duration {
	return WallFactor*budget + WallSlack
}

// meter counts the fuel of one instance. The module's countdown global
// holds what is left of the last load; used is what was spent before it.
type meter struct {
	global api.MutableGlobal // nil when the module is not instrumented
	limit  int64             // budget of the running program; 0 when none runs
	used   int64             // fuel spent before the current countdown
	set    int64             // what the countdown was loaded with
}

// start meters a run with the given budget.
func (m *meter) start(limit int64) {
	m.limit, m.used = limit, 0
	m.reload()
}

// finish ends metering and returns the fuel the run used.
func (m *meter) finish() int64 {
	m.settle()
	used := m.used
	m.limit, m.used = 0, 0
	m.reload()
	return used
}

// now is the fuel spent so far.
func (m *meter) now() int64 {
	if m.global == nil {
		return m.used
	}
	return m.used + m.set - int64(int32(uint32(m.global.Get())))
}

// settle moves what the countdown used into used.
func (m *meter) settle() {
	m.used = m.now()
	if m.global != nil {
		m.set = int64(int32(uint32(m.global.Get())))
	}
}

// charge adds fuel spent outside the module (sleeps). The caller settles
// first and reloads after.
func (m *meter) charge(f int64) {
	m.used = min(m.used+f, math.MaxInt64/2)
}

func (m *meter) spent() bool { return m.limit > 0 && m.used >= m.limit }

// reload loads the countdown: the next call to the host comes after
// yieldEvery units, or exactly when the budget runs out.
func (m *meter) reload() {
	m.set = yieldEvery
	if m.limit > 0 {
		m.set = max(min(m.set, m.limit-m.used), 1)
	}
	if m.global != nil {
		m.global.Set(uint64(uint32(int32(m.set))))
	}
}

// virtualBase is where the monotonic clock of every run starts (1000 s, so
// that programs that subtract small offsets from it stay positive).
const virtualBase = 1000 * time.Second

// nanotime serves the monotonic clock: virtual time, from the fuel used.
func (inst *instance) nanotime() int64 {
	return int64(virtualBase) + int64(FuelTime(inst.meter.now()))
}

// walltime serves the real-time clock: the time the run started, advanced
// by the fuel used.
func (inst *instance) walltime() (int64, int32) {
	t := inst.wallBase.Add(FuelTime(inst.meter.now()))
	return t.Unix(), int32(t.Nanosecond())
}

// sleep serves the program's sleeps (time.sleep, poll_oneoff clocks): the
// length is charged to the budget and the clocks move on; nothing waits.
// A sleep past the budget ends the run.
func (inst *instance) sleep(ns int64) {
	m := inst.meter
	if m.limit == 0 || ns <= 0 {
		return
	}
	m.settle()
	m.charge(FuelFor(time.Duration(ns)))
	if m.spent() {
		m.used = m.limit
		inst.budgetSpent()
	}
	m.reload()
}

// Version identifies what a label depends on besides the program and its
// limits: the interpreter build, the harness, the instrumentation and the
// fuel's calibration. Labels made under another version are other facts.
var Version = sync.OnceValue(func() string {
	h := sha256.New()
	bin, _ := wasm.Python()
	h.Write(bin)
	h.Write(harnessSource)
	fmt.Fprintf(h, "fuel-v1 %d %d", FuelPerSecond, instrument.ByteShift)
	return hex.EncodeToString(h.Sum(nil))[:16]
})
