package label

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/sandbox"
)

// HumanEval+ gives test inputs, not outputs: the expected outputs are what
// the canonical solution returns. They are computed once per problem, in
// the sandbox, and written into every candidate's test as a literal, so a
// candidate's run costs its own time only.

type plusCache struct {
	mu   sync.Mutex
	byID map[string]*plusEntry
}

type plusEntry struct {
	once sync.Once
	test string
	err  error
}

// plusTest returns the check(candidate) for p's base and plus inputs.
func (lb *Labeler) plusTest(ctx context.Context, p *dataset.Problem) (string, error) {
	lb.plus.mu.Lock()
	if lb.plus.byID == nil {
		lb.plus.byID = map[string]*plusEntry{}
	}
	e := lb.plus.byID[p.TaskID]
	if e == nil {
		e = &plusEntry{}
		lb.plus.byID[p.TaskID] = e
	}
	lb.plus.mu.Unlock()
	e.once.Do(func() { e.test, e.err = lb.makePlusTest(ctx, p) })
	return e.test, e.err
}

func pyString(s string) string { b, _ := json.Marshal(s); return string(b) }

func plusInputs(p *dataset.Problem) string {
	var inputs []json.RawMessage
	for _, raw := range []json.RawMessage{p.BaseInput, p.PlusInput} {
		var list []json.RawMessage
		if len(raw) > 0 && json.Unmarshal(raw, &list) == nil {
			inputs = append(inputs, list...)
		}
	}
	all, _ := json.Marshal(inputs)
	return string(all)
}

// plusLiteralMax is the largest expected-output literal put into a test.
const plusLiteralMax = 4 << 20

// plusRefTimeout bounds the one run of the canonical solution.
const plusRefTimeout = 120 * time.Second

func (lb *Labeler) makePlusTest(ctx context.Context, p *dataset.Problem) (string, error) {
	inputs := plusInputs(p)
	// marshal, not repr: linear in the size of huge ints (repr is
	// quadratic), exact for floats, and loads fast in every run.
	ref := fmt.Sprintf(`import json, copy, sys, marshal, base64
ns = {}
exec(%s, ns)
ref = ns[%s]
outs = [ref(*copy.deepcopy(a)) for a in json.loads(%s)]
sys.stdout.write(base64.b64encode(marshal.dumps(outs)).decode())
`, pyString(p.Prompt+p.CanonicalSolution), pyString(p.EntryPoint), pyString(inputs))
	res, err := lb.SB.Run(ctx, &sandbox.Request{Mode: sandbox.ModeScript, Source: ref, CandLine: 1,
		Timeout: plusRefTimeout, OutputLimit: 256 << 20})
	if err != nil {
		return "", err
	}
	switch {
	case res.Stop != sandbox.StopOK:
		slog.Warn("HumanEval+ reference run failed; computing expected outputs per candidate",
			"task", p.TaskID, "stop", res.Stop, "exception", res.Exception, "message", res.Message)
	case len(res.Stdout) > plusLiteralMax:
		// Too big to carry in every run's test: recompute per candidate.
	default:
		return plusCheck(inputs, "__import__('marshal').loads(__import__('base64').b64decode("+pyString(string(res.Stdout))+"))", p), nil
	}
	return plusCheck(inputs, "[_ref(*_copy.deepcopy(a)) for a in _INPUTS]", p), nil
}

// plusCheck writes the test: expected is a Python expression for the list
// of expected outputs, evaluated once when check runs; _ref is the
// canonical solution.
func plusCheck(inputs, expected string, p *dataset.Problem) string {
	return fmt.Sprintf(`import json as _json, copy as _copy, sys as _sys

_INPUTS = _json.loads(%s)
_ATOL = %v


def _ref(*args):
    ns = {}
    exec(%s, ns)
    return ns[%s](*args)


def _close(got, want):
    if isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        atol = _ATOL if _ATOL else 1e-6
        return abs(got - want) <= atol + 1e-7 * abs(want)
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)) and type(got) is type(want):
        return len(got) == len(want) and all(_close(g, w) for g, w in zip(got, want))
    return got == want


def check(candidate):
    expected = %s
    for args, want in zip(_INPUTS, expected):
        got = candidate(*_copy.deepcopy(args))
        if got != want:
            assert _close(got, want) == True, (got, want)
`, pyString(inputs), p.Atol, pyString(p.Prompt+p.CanonicalSolution), pyString(p.EntryPoint), expected)
}
