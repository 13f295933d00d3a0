package label

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/sandbox"
)

// stdio runs a program once per test case, each on a fresh interpreter,
// and stops at the first case that fails.
func (lb *Labeler) stdio(ctx context.Context, p *dataset.Problem, src string, candLine int, l *dataset.Label) error {
	tests := p.StdioTests()
	var wall float64
	var fuel int64
	for i, tc := range tests {
		req := &sandbox.Request{Mode: sandbox.ModeScript, Source: src, CandLine: candLine, Stdin: []byte(tc.Input)}
		res, err := lb.SB.Run(ctx, req)
		if err != nil {
			return err
		}
		// A program may end itself with exit code 0 once it has answered.
		if res.Stop == sandbox.StopExit && res.ExitCode == 0 {
			res.Stop, res.Outcome = sandbox.StopOK, "pass"
		}
		fill(l, res)
		wall += l.DurationMS
		fuel += l.Fuel
		l.DurationMS, l.Fuel, l.CostMS = wall, fuel, costMS(fuel)
		l.TestsRun = i + 1
		if !l.Passed {
			return nil
		}
		if ok, intent := CompareOutput(string(res.Stdout), tc.Output); !ok {
			l.Passed, l.Status, l.IntentError = false, "fail", intent
			l.Exception = "WrongAnswer"
			l.Message = "wrong output on test " + strconv.Itoa(i+1)
			return nil
		}
	}
	return nil
}

// CompareOutput compares a program's output with the expected one after
// whitespace normalisation: the outputs are split into tokens; tokens match
// when equal, or when the expected token is a decimal number and the got
// one is within 1e-6 (absolute or relative). On a mismatch it returns the
// intent error class.
func CompareOutput(got, want string) (bool, string) {
	g, w := strings.Fields(got), strings.Fields(want)
	if len(g) == len(w) {
		same := true
		for i := range g {
			if !tokenEqual(g[i], w[i]) {
				same = false
				break
			}
		}
		if same {
			return true, ""
		}
	}
	switch {
	case len(g) == 0 && len(w) > 0:
		return false, "empty"
	case len(g) != len(w):
		if len(w) == 1 {
			if len(g) < len(w) || len(strings.Join(g, " ")) < len(w[0]) {
				return false, "string_too_short"
			}
			return false, "string_too_long"
		}
		return false, "wrong_length"
	}
	// Same number of tokens: classify the first differing one.
	for i := range g {
		if tokenEqual(g[i], w[i]) {
			continue
		}
		gi, gerr := strconv.ParseFloat(g[i], 64)
		wi, werr := strconv.ParseFloat(w[i], 64)
		switch {
		case gerr == nil && werr == nil && gi == wi:
			return false, "wrong_type" // same number, other format (1.0 for 1)
		case gerr == nil && werr == nil && gi < wi:
			return false, "int_too_small"
		case gerr == nil && werr == nil && gi > wi:
			return false, "int_too_large"
		case (gerr == nil) != (werr == nil):
			return false, "wrong_type"
		case len(g[i]) < len(w[i]):
			return false, "string_too_short"
		case len(g[i]) > len(w[i]):
			return false, "string_too_long"
		}
		return false, "other"
	}
	return false, "other"
}

func tokenEqual(g, w string) bool {
	if g == w {
		return true
	}
	if !strings.ContainsAny(w, ".eE") {
		return false
	}
	wf, err1 := strconv.ParseFloat(w, 64)
	gf, err2 := strconv.ParseFloat(g, 64)
	if err1 != nil || err2 != nil || math.IsNaN(wf) || math.IsNaN(gf) {
		return false
	}
	d := math.Abs(gf - wf)
	return d <= 1e-6 || d <= 1e-6*math.Abs(wf)
}
