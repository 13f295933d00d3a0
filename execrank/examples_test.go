package execrank

import (
	"reflect"
	"strings"
	"testing"
)

func TestExtractExamples(t *testing.T) {
	prompt := `def f(xs, k=1):
    """Do something.
    >>> f([1, 2])
    3
    >>> f([])
    0
    >>> print(f([5]))
    5
    >>> f([4])  # f(x) = 4 == x
    4

    >>> other(1)
    2
    Also: f([2]) ➞ 2
        f([1, 1]) => true
        f("a(b") == 'x'  # a paren inside a string
        f([7])   # returns 7.
        self.f([9]) -> 9
        g(f([3])) -> 4
        notf([1]) == 1
    """
`
	want := []string{
		"assert f([1, 2]) == 3",
		"assert f([]) == 0",
		"assert print(f([5])) == 5", // not a value: fails for everyone
		"assert f([4]) == 4",        // the comment is not the call's
		"assert f([2]) == 2",
		"assert f([1, 1]) == True",
		`assert f("a(b") == 'x'`,
		"assert f([7]) == 7",
		"assert f([9]) == 9",
		"assert f([3]) == )",
	}
	got := ExtractExamples(prompt, "f")
	if !reflect.DeepEqual(got, want[:9]) {
		t.Fatalf("got\n%q\nwant\n%q", got, want[:9])
	}
	if got := ExtractExamples("def g():\n    pass\n", ""); got != nil {
		t.Fatalf("no entry: %q", got)
	}
}

func TestExtractExamplesAsserts(t *testing.T) {
	prompt := `"""
Write a function to find the shared elements from the given two lists.
assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))
assert math.isclose(area(2), 12.56, rel_tol=0.01)
assert similar_elements([1], [2]) == []
assert similar_elements([1], [2] == []
"""
`
	want := []string{
		"assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))",
		"assert similar_elements([1], [2]) == []",
	}
	if got := ExtractExamples(prompt, "similar_elements"); !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func TestExtractExamplesProseForms(t *testing.T) {
	prompt := `def f(nums: list, k: int, flag=False) -> int:
    """Examples:
    >>> f([1], 2) == 3
    >>> f([2], 2) == 4
    True
    >>> f([3], 2) == 9
    False
    >>> f([4], 2) [4, 4]
    >>> f([4], 2)[0]
    4
    f([5], 1) returns [5]
    f([6], 1) should return 6.
    f([7], 1) = 7
    f([8], 1) is the largest  # words, not a value

    A definition, not examples: f([0], 0) is the sequence's.
    f([0], 0) = 1
    f(xs, k) = f(xs, k - 1) + 1

    assert f([9], 1) => 9
    For k = 2, nums = [1, 2] the output should be 3
    For nums = [1], z = 2 the output should be 3
    Input: nums = [3, 4], k = 1
    Output: 7 # three plus four
    Example 2:
        Input:
            k : 5
            nums : [0]
        Output:
            5
    Input: k = 1, flag = True, nums = []
    Output: 0
    Input: nums = []
    Output: 0
    """
`
	want := []string{
		"assert f([1], 2) == 3",
		"assert f([2], 2) == 4",
		"assert f([4], 2) == [4, 4]", // the output on the same line
		"assert f([4], 2)[0] == 4",   // a subscript, not an output
		"assert f([5], 1) == [5]",
		"assert f([6], 1) == 6",
		"assert f([7], 1) == 7",
		"assert f([9], 1) == 9",
		"assert f([1, 2], 2) == 3",   // put in the signature's order
		"assert f([3, 4], 1) == 7",   // the comment dropped
		"assert f([0], 5) == 5",      // "name : value" lines, output under "Output:"
		"assert f([], 1, True) == 0", // a default given: still positional
	}
	got := ExtractExamples(prompt, "f")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func TestExtractExamplesNamedWithoutSignature(t *testing.T) {
	// No def in the prompt: names are passed in the order written; a
	// bare input is the argument list.
	prompt := "Add two numbers.\nInput: b = 1, a = 2\nOutput: 3\nInput: 4, 5\nOutput: 9\n"
	want := []string{"assert add(1, 2) == 3", "assert add(4, 5) == 9"}
	if got := ExtractExamples(prompt, "add"); !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	// A keyword after a parameter left to its default.
	prompt = "def g(a, b=0, c=1):\n    \"\"\"\n    Input: a = 1, c = 2\n    Output: 3\n    \"\"\"\n"
	want = []string{"assert g(1, c=2) == 3"}
	if got := ExtractExamples(prompt, "g"); !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

// FuzzExtractExamples: whatever a prompt holds, extraction ends without a
// panic and every example it makes calls the entry point.
func FuzzExtractExamples(f *testing.F) {
	f.Add("def f(a, b=1):\n    \"\"\"\n    >>> f(1) == 2\n    Input: a = 1, b = 2\n    Output: 3\n    For a = 1 the output should be 2\n    f(2) returns 19 - 5 = 14 (why)\n    \"\"\"\n")
	f.Add("Input:\n  a : [1\nOutput:\n")
	f.Add(">>> f(\"x\" [1]\nf(n) = f(n-1)\nf(1) = 1\nassert f(1) => '")
	f.Fuzz(func(t *testing.T, prompt string) {
		for _, e := range ExtractExamples(prompt, "f") {
			if !strings.HasPrefix(e, "assert ") || !strings.Contains(e, "f(") {
				t.Fatalf("%q gave %q", prompt, e)
			}
		}
	})
}
