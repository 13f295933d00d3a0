// Package label turns a problem and a candidate into sandbox runs and the
// runs into a Label: passed or not, and if not, how (CodeRanker's fault
// classes and the failing line).
//
// The rules that make a label trustworthy live here and in the harness:
// a candidate passes only when every test ran to its end; exiting early is
// a failure; comparisons are type-aware, so a value built to equal anything
// does not pass; and whatever a candidate does is a label, never an error of
// the labeller.
package label

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/pylit"
	"github.com/toppass/toppass/sandbox"
)

// Options select which tests run.
type Options struct {
	// Plus uses HumanEval+ inputs (base_input and plus_input, expected
	// outputs from the canonical solution) when a problem has them.
	Plus bool
}

// Labeler labels candidates with a sandbox.
type Labeler struct {
	SB   *sandbox.Sandbox
	Opts Options

	plus plusCache
}

// Label runs one candidate. The error is non-nil only when the sandbox
// failed or ctx ended.
func (lb *Labeler) Label(ctx context.Context, p *dataset.Problem, c *dataset.Candidate) (*dataset.Label, error) {
	l := &dataset.Label{TaskID: c.TaskID, Index: *c.Index}
	src, candLine := c.Source(p)
	var req *sandbox.Request
	switch p.Kind() {
	case dataset.KindStdio:
		return l, lb.stdio(ctx, p, src, candLine, l)
	case dataset.KindCall:
		fn, ins, outs := p.CallTests()
		req = &sandbox.Request{Mode: sandbox.ModeCall, Source: src, CandLine: candLine,
			Entry: callEntry(src, fn), Inputs: ins, Outputs: outs}
	default:
		var err error
		if req, err = lb.functionRequest(ctx, p, src, candLine); err != nil {
			return nil, err
		}
	}
	res, err := lb.SB.Run(ctx, req)
	if err != nil {
		return nil, err
	}
	fill(l, res)
	return l, nil
}

// functionRequest builds the run for a function-style problem.
func (lb *Labeler) functionRequest(ctx context.Context, p *dataset.Problem, src string, candLine int) (*sandbox.Request, error) {
	req := &sandbox.Request{
		Mode:     sandbox.ModeFunction,
		Source:   src,
		CandLine: candLine,
		Entry:    p.EntryPoint,
		Setup:    p.TestSetupCode,
	}
	switch {
	case lb.Opts.Plus && len(p.PlusInput) > 0:
		test, err := lb.plusTest(ctx, p)
		if err != nil {
			return nil, err
		}
		req.Test, req.Check = test, "check"
	case len(p.TestList) > 0 && p.Test == "":
		req.Test = strings.Join(p.TestList, "\n") + "\n"
		if req.Entry == "" {
			req.Entry = assertEntry(p.TestList)
		}
	default:
		req.Test, req.Check = p.Test, "check"
		if !strings.Contains(p.Test, "def check(") {
			req.Check = ""
		}
	}
	return req, nil
}

// Program is what a native harness runs for a function-style problem: the
// classic HumanEval program, prompt + completion + test + check(entry).
func Program(p *dataset.Problem, c *dataset.Candidate) string {
	src, _ := c.Source(p)
	prog := p.TestSetupCode + src + "\n\n" + p.Test + "\n"
	if len(p.TestList) > 0 && p.Test == "" {
		prog += strings.Join(p.TestList, "\n") + "\n"
	} else if strings.Contains(p.Test, "def check(") {
		prog += "check(" + p.EntryPoint + ")\n"
	}
	return prog
}

// fill copies a run's result into the label.
func fill(l *dataset.Label, res *sandbox.Result) {
	l.DurationMS = float64(res.Duration.Microseconds()) / 1000
	l.Fuel, l.CostMS, l.BudgetMS = res.Fuel, costMS(res.Fuel), res.Budget.Milliseconds()
	l.Exception, l.Message, l.LineText, l.TestsRun = res.Exception, res.Message, res.LineText, res.TestsRun
	l.ErrorLine = res.Line
	switch res.Stop {
	case sandbox.StopOK:
		if res.Outcome == "pass" {
			l.Passed, l.Status = true, "pass"
			return
		}
		l.Status, l.IntentError = "fail", res.IntentError
		if l.IntentError == "" {
			l.IntentError = "other"
		}
	case sandbox.StopException:
		l.Status, l.ExecError = "error", res.ExecError
		if l.ExecError == "" {
			l.ExecError = "other"
		}
	case sandbox.StopTimeout:
		l.Status, l.ExecError, l.Exception = "timeout", "Timeout", "Timeout"
		l.Message = fmt.Sprintf("time budget spent (%v of native CPython)", res.Budget)
	case sandbox.StopWallTimeout:
		l.Status, l.ExecError, l.Exception = "wall_timeout", "Timeout", "WallTimeout"
		l.Message = fmt.Sprintf("wall-clock backstop reached after %v with %.0f%% of the budget spent: the machine was too slow or busy (not a reproducible label)",
			res.Duration.Round(time.Millisecond), 100*float64(res.Fuel)/float64(max(sandbox.FuelFor(res.Budget), 1)))
	case sandbox.StopMemory:
		l.Status, l.ExecError = "memory", "other"
		if l.Exception == "" {
			l.Exception, l.Message = "MemoryError", "memory limit reached"
		}
	case sandbox.StopOutputLimit:
		l.Status, l.ExecError, l.Exception = "output_limit", "other", "OutputLimit"
		l.Message = "output limit reached"
	case sandbox.StopExit:
		l.Status, l.ExecError, l.Exception = "error", "other", "SystemExit"
		l.Message = fmt.Sprintf("process exited with code %d before the tests finished", res.ExitCode)
	default:
		l.Status, l.ExecError, l.Exception = "error", "other", "Trap"
		if l.Message == "" {
			l.Message = "the interpreter trapped"
		}
	}
}

// costMS is fuel in milliseconds of native CPython, to the microsecond.
func costMS(fuel int64) float64 {
	return float64(sandbox.FuelTime(fuel).Microseconds()) / 1000
}

// assertEntry guesses the function an assert list tests: the first name
// called in the first assert.
func assertEntry(tests []string) string {
	for _, t := range tests {
		t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "assert"))
		t = strings.TrimLeft(t, " (")
		if i := strings.IndexByte(t, '('); i > 0 {
			name := strings.TrimSpace(t[:i])
			if pylit.IsName(name) && name != "set" && name != "sorted" && name != "math" {
				return name
			}
		}
	}
	return ""
}

// callEntry picks "fn" or "Solution().fn" for APPS call-based problems.
func callEntry(code, fn string) string {
	if strings.Contains(code, "class Solution") && !strings.Contains(code, "\ndef "+fn+"(") && !strings.HasPrefix(code, "def "+fn+"(") {
		return "Solution()." + fn
	}
	return fn
}
