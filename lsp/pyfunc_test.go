package lsp

import (
	"strings"
	"testing"
)

func TestFuncAt(t *testing.T) {
	src := `import math


def helper(x):
    return x * 2


def f(a: int,
      b: dict = {"k": (1, 2)}) -> int:  # a comment: with a colon
    """Adds.

    >>> f(1, {})
    1
    """
    ...


class Solution:
    @staticmethod
    def g(self, xs):
        '''One line.'''
        total = 0
        for x in xs:
            total += x

        return total


def short(x): return x
`
	cases := []struct {
		line           int
		name, entry    string
		def, body, end int
		stub           bool
		docHas         string
	}{
		{3, "helper", "helper", 3, 4, 5, false, ""},
		{4, "helper", "helper", 3, 4, 5, false, ""},
		{8, "f", "f", 7, 14, 15, true, ">>> f(1, {})"},
		{12, "f", "f", 7, 14, 15, true, ">>> f(1, {})"},
		{14, "f", "f", 7, 14, 15, true, ""},
		{20, "g", "Solution().g", 19, 21, 26, false, "One line."},
		{25, "g", "Solution().g", 19, 21, 26, false, ""},
	}
	for _, c := range cases {
		f, ok := funcAt(src, c.line)
		if !ok {
			t.Fatalf("line %d: no function", c.line)
		}
		if f.Name != c.name || f.Entry != c.entry || f.Def != c.def || f.Body != c.body || f.End != c.end || f.Stub != c.stub ||
			!strings.Contains(f.Doc, c.docHas) {
			t.Errorf("line %d: got %s %s def %d body %d end %d stub %v doc %q", c.line, f.Name, f.Entry, f.Def, f.Body, f.End, f.Stub, f.Doc)
		}
	}
	for _, line := range []int{0, 1, 16, 28, 40} {
		if f, ok := funcAt(src, line); ok {
			t.Errorf("line %d: want no function, got %s", line, f.Name)
		}
	}
	// The prompt is the file up to the docstring; the problem is named by
	// the signature and docstring, not by what surrounds it.
	f, _ := funcAt(src, 8)
	if !strings.HasSuffix(f.Prompt, "    \"\"\"\n") || !strings.HasPrefix(f.Prompt, "import math") {
		t.Errorf("prompt %q", f.Prompt)
	}
	g, _ := funcAt("# moved\n"+src, 9)
	if g.problem().TaskID != f.problem().TaskID {
		t.Error("the task id depends on lines above the function")
	}
	if len(funcs(src)) != 3 {
		t.Errorf("funcs: %d", len(funcs(src)))
	}
}
