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

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/sandbox"
)

// ExtractAsserts turns raw generations that continue "assert " into test
// statements, the way CodeT did: each sample is prefixed with "assert " and
// split into lines; lines that start with "assert" and call the entry point
// are kept, at most perSample of them per sample; duplicates are dropped and
// the first-seen order is kept.
func ExtractAsserts(samples []string, entry string, perSample int) []string {
	call := entry
	if i := strings.LastIndex(entry, "."); i >= 0 {
		call = entry[i+1:]
	}
	call += "("
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

// Probe runs candidate c of problem p against tests and reports which
// held. A run stopped early (timeout, crash) fails the tests it did not
// reach.
func Probe(ctx context.Context, sb *sandbox.Sandbox, p *dataset.Problem, c *dataset.Candidate, tests []string) ([]bool, error) {
	held := make([]bool, len(tests))
	if len(tests) == 0 {
		return held, nil
	}
	code, cont := c.Code()
	prefix := ""
	if cont {
		prefix = p.Prompt
	}
	res, err := sb.Run(ctx, &sandbox.Request{
		Mode: sandbox.ModeProbe, Source: prefix + code, CandLine: strings.Count(prefix, "\n") + 1,
		Entry: p.EntryPoint, Setup: p.TestSetupCode, Tests: tests,
	})
	if err != nil {
		return nil, err
	}
	out := res.Stdout
	if len(out) > len(tests) || strings.Trim(string(out), "01") != "" {
		return held, nil // the program wrote to fd 1 itself: trust nothing
	}
	for i, b := range out {
		held[i] = b == '1'
	}
	return held, nil
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
