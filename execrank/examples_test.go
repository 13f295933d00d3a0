package execrank

import (
	"reflect"
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
		"assert f([2]) == 2",
		"assert f([1, 1]) == True",
		`assert f("a(b") == 'x'`,
		"assert f([7]) == 7",
		"assert f([9]) == 9",
		"assert f([3]) == )",
	}
	got := ExtractExamples(prompt, "f")
	if !reflect.DeepEqual(got, want[:8]) {
		t.Fatalf("got\n%q\nwant\n%q", got, want[:8])
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
