package mutate

import (
	"strings"
	"testing"
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
