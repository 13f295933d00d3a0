package sandbox

import (
	"encoding/json"
	"time"
)

// Mode says how the harness runs a request.
type Mode string

const (
	// ModeFunction runs Source, then Test, then Check(entry point) — the
	// shape of HumanEval, HumanEval+, MBPP-style assert lists and LeetCode.
	ModeFunction Mode = "function"
	// ModeScript runs Source as a program (__main__) with Stdin; the caller
	// judges Stdout.
	ModeScript Mode = "script"
	// ModeCall calls the entry point with each of Inputs and compares the
	// result with Outputs (APPS call-based problems).
	ModeCall Mode = "call"
	// ModeProbe runs Source, then each of Tests (assert statements naming
	// the entry point) on its own, and writes one byte per test to stdout:
	// '1' if it held, '0' if not (CodeT-style agreement).
	ModeProbe Mode = "probe"
	// ModeStatic compiles Source without running it: a SyntaxError is
	// reported as usual, otherwise Reply.Undefined lists the global names
	// the program reads but never binds (a NameError waiting to happen).
	ModeStatic Mode = "static"
)

// Request is one program to run.
type Request struct {
	Mode Mode `json:"mode"`
	// Setup is problem code run before Source (imports, helper classes).
	Setup string `json:"setup,omitempty"`
	// Source is the prompt and completion, or the whole program.
	Source string `json:"source"`
	// CandLine is the 1-based line of Source where the candidate's own
	// code starts; error lines are reported relative to it.
	CandLine int `json:"cand_line"`
	// Test holds the tests (ModeFunction).
	Test string `json:"test,omitempty"`
	// Entry is the entry point: "f" or "Solution().f".
	Entry string `json:"entry,omitempty"`
	// Check is the test's check function; empty for plain asserts.
	Check string `json:"check"`
	// Tests are ModeProbe's assert statements; Calls its call expressions
	// whose results are hashed into a behaviour signature (after a '|',
	// 8 hex digits or "!Exception" and a ';' per call).
	Tests []string `json:"tests,omitempty"`
	Calls []string `json:"calls,omitempty"`
	// Inputs and Outputs are ModeCall's argument lists and results.
	Inputs  []json.RawMessage `json:"inputs,omitempty"`
	Outputs []json.RawMessage `json:"outputs,omitempty"`
	// Stdin is the program's standard input (empty: EOF at once).
	Stdin []byte `json:"-"`
	// Timeout overrides Config.Timeout (the budget, in native CPython
	// time) for this run when positive; the backstop is then the default
	// for that budget.
	Timeout time.Duration `json:"-"`
	// OutputLimit overrides Config.OutputLimit for this run when positive.
	OutputLimit int `json:"-"`
}

// Stop is why a run ended.
type Stop string

const (
	StopOK          Stop = "ok"           // ran to the end; Outcome is pass or fail
	StopException   Stop = "exception"    // an uncaught exception (Outcome error)
	StopTimeout     Stop = "timeout"      // the time budget is spent (deterministic)
	StopWallTimeout Stop = "wall_timeout" // the wall-clock backstop (machine too slow or loaded)
	StopMemory      Stop = "memory"       // MemoryError or the memory limit
	StopOutputLimit Stop = "output_limit" // stdout or stderr over the limit
	StopExit        Stop = "exit"         // the program ended the process (os._exit)
	StopTrap        Stop = "trap"         // the wasm trapped (C stack overflow, abort)
)

// Reply is the harness's verdict.
type Reply struct {
	// Outcome: pass, fail (a test's assertion), error, memory.
	Outcome   string `json:"outcome"`
	Exception string `json:"exception"`
	Message   string `json:"message"`
	// ExecError is CodeRanker's execution error class: NameError,
	// ValueError, EOFError, TypeError, IndexError, KeyError, SyntaxError,
	// FunctionNotFound, other.
	ExecError string `json:"exec_error"`
	// IntentError classifies a wrong answer: none_returned, empty,
	// wrong_type, wrong_length, int_too_small, int_too_large,
	// string_too_short, string_too_long, other.
	IntentError string `json:"intent_error"`
	// Line is the candidate line (1-based, relative to CandLine) where the
	// error was raised, 0 if none.
	Line     int    `json:"line"`
	LineText string `json:"line_text,omitempty"`
	TestsRun int    `json:"tests_run,omitempty"`
	// Undefined (ModeStatic) are global names read but never bound.
	Undefined []string `json:"undefined,omitempty"`
}

// Result describes a finished run.
type Result struct {
	Stop Stop
	Reply
	ExitCode uint32 // with StopExit
	Stdout   []byte
	// TestStdout is what the judge's instance (the test and the harness)
	// wrote in a two-instance run: function, call and probe modes, where
	// Stdout and Stderr are the candidate's. Probe results come this way.
	TestStdout []byte
	Stderr     []byte
	Truncated  bool // output was cut at the limit
	// Fuel is the work the program did (fuel.go): the same on every
	// machine. Cost converts it to native CPython time. Budget is the time
	// budget the run had.
	Fuel   int64
	Budget time.Duration
	// Duration is the wall time of the run, which depends on the machine.
	Duration time.Duration
}

// Cost is the run's fuel in native CPython time.
func (r *Result) Cost() time.Duration { return FuelTime(r.Fuel) }

// Passed reports whether the program ran to its end and every test held.
func (r *Result) Passed() bool { return r.Stop == StopOK && r.Outcome == "pass" }
