// Package execrank ranks candidates by what they do when run: CodeT's dual
// agreement with model-generated tests, computed in the sandbox.
//
// CodeT (Chen et al., 2022) runs every candidate against tests that a model
// wrote for the same problem. Candidates that pass the same set of tests
// form a consensus set; a set's score is its number of candidates times its
// number of tests, and every candidate gets its set's score. Wrong tests
// agree with few candidates and wrong candidates with few tests, so the
// largest agreeing group usually holds the right behaviour.
package execrank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/pylit"
	"github.com/toppass/toppass/sandbox"
)

// ExtractAsserts turns raw generations that continue "assert " into test
// statements, the way CodeT did: each sample is prefixed with "assert " and
// split into lines; lines that start with "assert" and call the entry point
// are kept, at most perSample of them per sample; duplicates are dropped and
// the first-seen order is kept.
func ExtractAsserts(samples []string, entry string, perSample int) []string {
	call := FuncName(entry) + "("
	seen := map[string]bool{}
	var out []string
	for _, s := range samples {
		k := 0
		for _, line := range strings.Split("assert "+s, "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "assert") || !strings.Contains(line, call) {
				continue
			}
			if k >= perSample {
				break
			}
			k++
			if !seen[line] {
				seen[line] = true
				out = append(out, line)
			}
		}
	}
	return out
}

// ReadGeneratedTests reads model-generated tests in the format of
// ../shared/data/humaneval/codegen16b-generated-tests.jsonl ({task_id,
// samples: [...]}, each sample continuing "assert "), or a list of ready
// asserts ({task_id, tests: [...]}), and extracts the asserts for each
// problem in probs.
func ReadGeneratedTests(path string, probs map[string]*dataset.Problem, perSample int, onErr func(*dataset.LineError) error) (map[string][]string, error) {
	out := map[string][]string{}
	err := dataset.ReadLines(path, func(_ int, raw []byte) error {
		var r struct {
			TaskID  string   `json:"task_id"`
			Samples []string `json:"samples"`
			Tests   []string `json:"tests"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		if r.TaskID == "" {
			return errors.New("missing task_id")
		}
		p, ok := probs[r.TaskID]
		if !ok {
			return nil // tests for a problem not asked about
		}
		if len(r.Tests) > 0 {
			out[r.TaskID] = append(out[r.TaskID], r.Tests...)
			return nil
		}
		out[r.TaskID] = append(out[r.TaskID], ExtractAsserts(r.Samples, p.EntryPoint, perSample)...)
		return nil
	}, onErr)
	return out, err
}

// ProbeResult is what one candidate did on a problem's tests and calls.
type ProbeResult struct {
	Held []bool   // per test
	Sigs []string // per call: a hash of the result, "!Exception", or "" if not reached
}

// Probe runs candidate c of problem p against tests, then evaluates calls
// and hashes their results, within budget (0: the sandbox's). A run
// stopped early (timeout, crash) fails the tests it did not reach and
// leaves later signatures empty.
func Probe(ctx context.Context, sb *sandbox.Sandbox, p *dataset.Problem, c *dataset.Candidate, tests, calls []string, budget time.Duration) (*ProbeResult, error) {
	r := &ProbeResult{Held: make([]bool, len(tests)), Sigs: make([]string, len(calls))}
	if len(tests) == 0 && len(calls) == 0 {
		return r, nil
	}
	src, candLine := c.Source(p)
	res, err := sb.Run(ctx, &sandbox.Request{
		Mode: sandbox.ModeProbe, Source: src, CandLine: candLine,
		Entry: p.EntryPoint, Setup: p.TestSetupCode, Tests: tests, Calls: calls, Timeout: budget,
	})
	if err != nil {
		return nil, err
	}
	held, sigs, _ := strings.Cut(string(res.TestStdout), "|")
	if len(held) > len(tests) || strings.Trim(held, "01") != "" {
		return r, nil // the program wrote to fd 1 itself: trust nothing
	}
	for i := range len(held) {
		r.Held[i] = held[i] == '1'
	}
	for i, s := range strings.Split(sigs, ";") {
		if i >= len(calls) {
			break
		}
		r.Sigs[i] = s
	}
	return r, nil
}

// FuncName is the function an entry point names: "f" for "f" and for
// "Solution().f".
func FuncName(entry string) string { return entry[strings.LastIndex(entry, ".")+1:] }

// CallsOf returns the distinct calls of entry that tests make
// ("assert f(1, 2) == 3" gives "f(1, 2)"): inputs on which candidates'
// behaviour can be compared whatever the tests expect.
func CallsOf(tests []string, entry string) []string {
	name := FuncName(entry)
	seen := map[string]bool{}
	var out []string
	for _, t := range tests {
		k := strings.Index(t, name+"(")
		if k < 0 {
			continue
		}
		end := pylit.MatchBracket(t, k+len(name))
		if end < 0 {
			continue
		}
		call := t[k : end+1]
		if !seen[call] {
			seen[call] = true
			out = append(out, call)
		}
	}
	return out
}

// ClusterSizes gives each candidate the number of candidates with the same
// behaviour signature (all calls alike), 0 for candidates that reached no
// call without an exception.
func ClusterSizes(sigs [][]string) []int {
	key := func(s []string) (string, bool) {
		ok := false
		for _, x := range s {
			if x != "" && !strings.HasPrefix(x, "!") {
				ok = true
			}
		}
		return strings.Join(s, ";"), ok
	}
	size := map[string]int{}
	for _, s := range sigs {
		if k, ok := key(s); ok {
			size[k]++
		}
	}
	out := make([]int, len(sigs))
	for i, s := range sigs {
		if k, ok := key(s); ok {
			out[i] = size[k]
		}
	}
	return out
}

// DualAgreement scores candidates from their test results (one row per
// candidate, one column per test): candidates with identical rows form a
// consensus set scored |set| × |tests the set passes|.
func DualAgreement(results [][]bool) []float64 {
	key := func(r []bool) string {
		b := make([]byte, len(r))
		for i, v := range r {
			b[i] = '0'
			if v {
				b[i] = '1'
			}
		}
		return string(b)
	}
	size := map[string]int{}
	for _, r := range results {
		size[key(r)]++
	}
	scores := make([]float64, len(results))
	for i, r := range results {
		passed := 0
		for _, v := range r {
			if v {
				passed++
			}
		}
		scores[i] = float64(size[key(r)] * passed)
	}
	return scores
}
