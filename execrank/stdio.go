package execrank

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/label"
	"github.com/toppass/toppass/sandbox"
)

var (
	inputHeader  = regexp.MustCompile(`(?i)^(sample|example)?\s*(test\s*)?input\s*(#?\d+)?\s*:?\s*$`)
	outputHeader = regexp.MustCompile(`(?i)^(sample|example)?\s*(test\s*)?output\s*(#?\d+)?\s*:?\s*$`)
	endOfExample = regexp.MustCompile(`(?i)^(-{3,}.*|note:?|notes:?|explanation:?|(sample|example)s?:?|constraints:?)$`)
)

// ExtractStdioExamples finds the input/output examples a programming-contest
// statement gives (APPS' "-----Example-----\nInput\n…\nOutput\n…",
// CodeContests' "Example\n\nInput\n\n…\n\nOutput\n\n…", "Sample Input 1" /
// "Sample Output 1"): an input header, the lines up to an output header,
// then the lines up to the next input header or the end of the section
// (a "-----" rule, Note, Explanation).
func ExtractStdioExamples(statement string) []dataset.IOCase {
	lines := strings.Split(strings.ReplaceAll(statement, "\r\n", "\n"), "\n")
	var out []dataset.IOCase
	for i := 0; i < len(lines); i++ {
		if !inputHeader.MatchString(strings.TrimSpace(lines[i])) {
			continue
		}
		j := i + 1
		for j < len(lines) && !outputHeader.MatchString(strings.TrimSpace(lines[j])) && !inputHeader.MatchString(strings.TrimSpace(lines[j])) {
			j++
		}
		if j >= len(lines) || !outputHeader.MatchString(strings.TrimSpace(lines[j])) {
			continue
		}
		k := j + 1
		for k < len(lines) {
			t := strings.TrimSpace(lines[k])
			if inputHeader.MatchString(t) || endOfExample.MatchString(t) {
				break
			}
			k++
		}
		in := trimBlank(lines[i+1 : j])
		want := trimBlank(lines[j+1 : k])
		if in != "" && want != "" {
			out = append(out, dataset.IOCase{Input: in + "\n", Output: want + "\n"})
		}
		i = k - 1
	}
	return out
}

func trimBlank(lines []string) string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// ProbeStdio runs a stdin/stdout program on each example: Held says which
// outputs matched (label.CompareOutput), Sigs hash each output (normalised
// to its tokens) for behaviour clusters; then on each of the extra inputs
// (toppass's own, see SelfStdin), whose signatures follow the examples'.
// Each run has budget (0: the sandbox's).
func ProbeStdio(ctx context.Context, sb *sandbox.Sandbox, p *dataset.Problem, c *dataset.Candidate, examples []dataset.IOCase, extra []string,
	budget time.Duration) (*ProbeResult, error) {
	r := &ProbeResult{Held: make([]bool, len(examples)), Sigs: make([]string, len(examples)+len(extra))}
	src, candLine := c.Source(p)
	run := func(input string) (stdout string, sig string, err error) {
		res, err := sb.Run(ctx, &sandbox.Request{Mode: sandbox.ModeScript, Source: src, CandLine: candLine, Stdin: []byte(input), Timeout: budget})
		if err != nil {
			return "", "", err
		}
		finished := res.Stop == sandbox.StopOK && res.Outcome == "pass" || res.Stop == sandbox.StopExit && res.ExitCode == 0
		if !finished {
			return "", "!" + string(res.Stop), nil
		}
		h := sha256.Sum256([]byte(strings.Join(strings.Fields(string(res.Stdout)), " ")))
		return string(res.Stdout), hex.EncodeToString(h[:4]), nil
	}
	for i, ex := range examples {
		out, sig, err := run(ex.Input)
		if err != nil {
			return nil, err
		}
		r.Sigs[i] = sig
		if !strings.HasPrefix(sig, "!") {
			r.Held[i], _ = label.CompareOutput(out, ex.Output)
		}
	}
	for i, in := range extra {
		_, sig, err := run(in)
		if err != nil {
			return nil, err
		}
		r.Sigs[len(examples)+i] = sig
	}
	return r, nil
}
