package mutate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/toppass/toppass/dataset"
)

const ref = `class Solution:
    def search(self, nums: List[int], target: int) -> int:
        """Binary search; '<' in a docstring stays."""
        lo, hi = 0, len(nums) - 1
        while lo <= hi:  # a comment with + and <
            mid = (lo + hi) // 2
            if nums[mid] == target:
                return mid
            if nums[mid] < target:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1
`

func TestMutantsDistinctDeterministicAndInCode(t *testing.T) {
	a := Mutants(ref, 12, 7)
	b := Mutants(ref, 12, 7)
	if len(a) != 12 {
		t.Fatalf("%d mutants, want 12", len(a))
	}
	seen := map[string]bool{}
	ops := map[string]bool{}
	for i, m := range a {
		if m.Code != b[i].Code {
			t.Fatal("not deterministic for a seed")
		}
		if m.Code == ref || seen[m.Code] {
			t.Fatalf("mutant %d repeats the reference or another mutant", i)
		}
		seen[m.Code] = true
		ops[m.Operator] = true
		// exactly one line differs, and it is the one reported
		ml, rl := strings.Split(m.Code, "\n"), strings.Split(ref, "\n")
		diff := 0
		for j := range rl {
			if ml[j] != rl[j] {
				diff++
				if j+1 != m.Line {
					t.Errorf("mutant %d changed line %d, reported %d", i, j+1, m.Line)
				}
				if strings.Contains(rl[j], `"""`) || strings.Contains(rl[j], "def ") {
					t.Errorf("mutant %d touched a docstring or signature: %q", i, ml[j])
				}
				if strings.Contains(rl[j], "#") && ml[j][strings.Index(ml[j], "#"):] != rl[j][strings.Index(rl[j], "#"):] {
					t.Errorf("mutant %d edited a comment: %q", i, ml[j])
				}
			}
		}
		if diff != 1 {
			t.Errorf("mutant %d changes %d lines", i, diff)
		}
	}
	if len(ops) < 3 {
		t.Errorf("only %d kinds of mutation used: %v", len(ops), ops)
	}
	if c := Mutants(ref, 12, 8); c[0].Code == a[0].Code && c[1].Code == a[1].Code && c[2].Code == a[2].Code {
		t.Error("another seed gave the same mutants")
	}
	if m := Mutants("x = 'a < b'\n", 5, 1); len(m) != 0 && m[0].Operator != "drop-statement" {
		t.Errorf("mutated inside a string: %+v", m)
	}
}

func TestCodeBlockTakesTheLongestPythonBlock(t *testing.T) {
	answer := "Use binary search:\n\n```python\n" + ref + "```\n\nFor example:\n\n```python\nSolution().search([1, 2], 2)\n```\n"
	got, ok := CodeBlock(answer)
	if !ok || got != ref {
		t.Fatalf("CodeBlock = %q, %v; want the solution's block", got, ok)
	}
	if _, ok := CodeBlock("No code here, only prose."); ok {
		t.Fatal("an answer without a block has code")
	}
	if got, ok := CodeBlock("```\nx = 1\n```"); !ok || got != "x = 1\n" {
		t.Fatalf("untagged block: %q, %v", got, ok)
	}
}

func TestFileFromResponses(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "train.jsonl")
	answer := "Here it is:\n```python\n" + ref + "```\n"
	lines := []string{
		`{"task_id":"search","completion":"x = 1\n","response":` + strconv.Quote(answer) + `}`,
		`{"task_id":"prose","completion":"x = 1\n","response":"I cannot."}`,
		`{"task_id":"broken"`,
		`{"task_id":"noresp","completion":"x = 1\n"}`,
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var bad []string
	res, err := File(in, Options{Per: 3, Seed: 1, Response: true, FirstIndex: 1000}, &out, func(e *dataset.LineError) error {
		bad = append(bad, e.Error())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Programs != 1 || res.Mutants != 3 || res.NoCode != 1 {
		t.Fatalf("result %+v, want 1 program, 3 mutants, 1 answer without code", res)
	}
	if len(bad) != 2 || !strings.Contains(bad[0], "train.jsonl:3") || !strings.Contains(bad[1], "train.jsonl:4") {
		t.Fatalf("bad lines %q, want lines 3 and 4 with file:line", bad)
	}
	var cands []Candidate
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var c Candidate
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		cands = append(cands, c)
	}
	if cands[0].Index != 1000 || cands[0].Completion != ref {
		t.Fatalf("first candidate %d %q, want index 1000 and the response's code", cands[0].Index, cands[0].Completion)
	}
	for i, c := range cands[1:] {
		if c.Index != 1001+i || c.Completion == ref || c.Mutation == "" {
			t.Fatalf("mutant %d: %+v", i, c)
		}
	}
}
