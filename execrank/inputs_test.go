package execrank

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/pylit"
	"github.com/toppass/toppass/sandbox"
)

func TestSelfInputsMutateByType(t *testing.T) {
	calls := []string{"f([1, 2, 3], 'abc', k=2)", "f([5], 'x', k=0)"}
	got := SelfInputs("def f(xs, s, k=1):\n    pass\n", "f", calls, 30)
	if len(got) < 20 {
		t.Fatalf("%d inputs: %q", len(got), got)
	}
	again := SelfInputs("def f(xs, s, k=1):\n    pass\n", "f", calls, 30)
	if !slices.Equal(got, again) {
		t.Fatal("the same problem got other inputs")
	}
	seen := map[string]bool{}
	for _, c := range got {
		if seen[c] || slices.Contains(calls, c) {
			t.Errorf("%s repeats", c)
		}
		seen[c] = true
		sc, ok := parseCall(c)
		if !ok || sc.name != "f" || len(sc.args) != 3 || sc.args[2].keyword != "k" {
			t.Fatalf("%s: not a call of f with three arguments", c)
		}
		// Types are kept: a list, a str, an int.
		for i, want := range []pylit.Kind{pylit.List, pylit.Str, pylit.Int} {
			if !sc.args[i].lit || sc.args[i].val.Kind != want {
				t.Errorf("%s: argument %d is not a %s", c, i, want)
			}
		}
	}
}

// TestSelfInputsMakeTies: a call with two arguments of one kind gets,
// now and then, the second a twin of the first (the same number, the same
// items reversed), the ties where programs part, but not most of the
// time.
func TestSelfInputsMakeTies(t *testing.T) {
	for _, c := range []struct {
		example string
		twin    func(a, b pylit.Value) bool
	}{
		{"total_match(['hi', 'admin'], ['hI', 'Hi'])", func(a, b pylit.Value) bool {
			r := slices.Clone(a.Items)
			slices.Reverse(r)
			return len(a.Items) > 1 && slices.EqualFunc(r, b.Items, func(x, y pylit.Value) bool { return x.String() == y.String() })
		}},
		{"choose_num(12, 15)", func(a, b pylit.Value) bool { return a.String() == b.String() }},
		{"same_chars('eabcd', 'dddddddabc')", func(a, b pylit.Value) bool {
			r := []rune(a.S)
			slices.Reverse(r)
			return len(r) > 1 && string(r) == b.S
		}},
	} {
		name := c.example[:strings.IndexByte(c.example, '(')]
		got := SelfInputs("", name, []string{c.example}, 24)
		twins := 0
		for _, call := range got {
			sc, ok := parseCall(call)
			if !ok || len(sc.args) != 2 {
				t.Fatalf("%s: not a call of two arguments", call)
			}
			if c.twin(sc.args[0].val, sc.args[1].val) || c.twin(sc.args[1].val, sc.args[0].val) {
				twins++
			}
		}
		if twins == 0 || twins > len(got)/2 {
			t.Errorf("%s: %d twins among %d inputs %q", c.example, twins, len(got), got)
		}
	}
}

// An example whose containers are all empty (MBPP's "assert
// total_match([], []) == []") still gives inputs: the empty containers
// get elements of the commonest kinds, ints and strings, and the kind the
// problem does not take is left for Behaviour to drop.
func TestSelfInputsFillEmptyContainers(t *testing.T) {
	got := SelfInputs("", "total_match", []string{"total_match([], [])"}, 24)
	if len(got) < 12 {
		t.Fatalf("%d inputs: %q", len(got), got)
	}
	kinds := map[pylit.Kind]bool{}
	for _, c := range got {
		sc, ok := parseCall(c)
		if !ok || len(sc.args) != 2 {
			t.Fatalf("%s: not a call with two arguments", c)
		}
		for _, a := range sc.args {
			if a.val.Kind != pylit.List {
				t.Fatalf("%s: an argument is no longer a list", c)
			}
			for _, x := range a.val.Items {
				kinds[x.Kind] = true
			}
		}
	}
	if !kinds[pylit.Int] || !kinds[pylit.Str] {
		t.Errorf("elements of kinds %v, want ints and strings: %q", kinds, got)
	}
	if got := SelfInputs("", "f", []string{"f({})"}, 8); len(got) == 0 || got[0] == "f({})" {
		t.Errorf("an empty dict: %q", got)
	}
}

func TestSelfInputsKeepsNonLiterals(t *testing.T) {
	got := SelfInputs("", "g", []string{"g(x, [1, 2])"}, 5)
	if len(got) == 0 {
		t.Fatal("no inputs")
	}
	for _, c := range got {
		if !strings.HasPrefix(c, "g(x, [") {
			t.Errorf("%s: the name argument changed", c)
		}
	}
	if got := SelfInputs("", "g", []string{"g(x)"}, 5); got != nil {
		t.Errorf("nothing to change, got %q", got)
	}
}

func TestSelfInputsFromHints(t *testing.T) {
	prompt := "from typing import List, Dict\n\ndef h(xs: List[int], names: Dict[str, float], flag: bool, n=3) -> int:\n    \"\"\"\"\"\"\n"
	got := SelfInputs(prompt, "h", nil, 10)
	if len(got) != 10 {
		t.Fatalf("%d inputs: %q", len(got), got)
	}
	for _, c := range got {
		sc, ok := parseCall(c)
		if !ok || len(sc.args) != 3 || sc.args[0].val.Kind != pylit.List || sc.args[1].val.Kind != pylit.Dict || sc.args[2].val.Kind != pylit.Bool {
			t.Errorf("%s does not follow the hints", c)
		}
	}
	if got := SelfInputs("def h(*xs):\n", "h", nil, 10); got != nil {
		t.Errorf("*args: got %q", got)
	}
}

func TestSelfInputsGuessUnhintedTypes(t *testing.T) {
	for _, c := range []struct {
		prompt string
		want   []pylit.Kind
	}{
		// Names that say their type; a hint written wins.
		{"def f(arr, k, s, words, grid, lst2, d, x: str):\n", []pylit.Kind{pylit.List, pylit.Int, pylit.Str, pylit.List, pylit.List, pylit.List, pylit.Dict, pylit.Str}},
		// A lone parameter: the type the docstring names first.
		{"def f(value):\n    \"\"\"Given a string representing a number, return the closest integer.\"\"\"\n", []pylit.Kind{pylit.Str}},
		{"def f(number):\n    \"\"\"Given a positive integer, return it as a string.\"\"\"\n", []pylit.Kind{pylit.Int}},
		{"def f(x):\n    \"\"\"Given a list of positive integers x, return ...\"\"\"\n", []pylit.Kind{pylit.List}},
		{"def f(q):\n    \"\"\"Nothing said.\"\"\"\n", []pylit.Kind{pylit.Int}},
	} {
		got := SelfInputs(c.prompt, "f", nil, 6)
		if len(got) == 0 {
			t.Errorf("%q: no inputs", c.prompt)
		}
		for _, call := range got {
			sc, ok := parseCall(call)
			if !ok || len(sc.args) != len(c.want) {
				t.Fatalf("%q: %s", c.prompt, call)
			}
			for i, k := range c.want {
				if sc.args[i].val.Kind != k {
					t.Errorf("%q: %s: argument %d is a %v, want a %v", c.prompt, call, i, sc.args[i].val.Kind, k)
				}
			}
		}
	}
}

func TestBehaviour(t *testing.T) {
	sigs := [][]string{
		{"a", "x", "!ValueError", "k"},
		{"a", "x", "!ValueError", "k"},
		{"a", "y", "!ValueError", "k"},
		{"b", "", "!ValueError", "k"},
	}
	score, kept := Behaviour(sigs)
	// Call 2: everyone raises (dropped); call 3: all agree (dropped).
	if kept != 2 {
		t.Fatalf("kept %d calls, want 2", kept)
	}
	// Call 0: groups 3+1, weight (3/4)²; call 1: 2+1 and one not reached
	// (3 of 4 returned), weight (2/4)².
	w0, w1 := 9.0/16, 4.0/16
	want := []float64{
		(w0*0.75 + w1*0.5) / (w0 + w1),
		(w0*0.75 + w1*0.5) / (w0 + w1),
		(w0*0.75 + w1*0.25) / (w0 + w1),
		(w0 * 0.25) / (w0 + w1),
	}
	for i := range want {
		if d := score[i] - want[i]; d > 1e-12 || d < -1e-12 {
			t.Errorf("candidate %d: %v, want %v", i, score[i], want[i])
		}
	}
	if s, k := Behaviour([][]string{{"!E"}, {"!E"}, {"a"}}); k != 0 || s[2] != 0 {
		t.Errorf("an input most reject counted: %v %d", s, k)
	}
}

// In the sandbox: candidates that pass the stated example tie on it; on
// toppass's own inputs the right ones agree, and the ones that only fit
// the example (a constant, a formula that happens to match) and one that
// cheats by printing its own verdict fall behind.
func TestSelfInputsSeparateInTheSandbox(t *testing.T) {
	ctx := context.Background()
	sb, err := sandbox.New(ctx, sandbox.Config{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	p := &dataset.Problem{TaskID: "t/1", EntryPoint: "total",
		Prompt: "def total(xs, k):\n    \"\"\"Sum of the items of xs greater than k.\n    >>> total([1, 2, 3], 1)\n    5\n    \"\"\"\n"}
	bodies := []string{
		"    return sum(x for x in xs if x > k)\n",                                           // right
		"    s = 0\n    for x in xs:\n        if x > k:\n            s += x\n    return s\n", // right, another way
		"    return 5\n",           // fits the example only
		"    return sum(xs) - k\n", // fits the example only
		"    import os\n    os.write(1, b'1111|')\n    return 5\n", // writes a verdict of its own
		"    return sum(xs[k:])\n",                                 // fits the example only
	}
	var cands []*dataset.Candidate
	for i, b := range bodies {
		idx := i
		body := b
		cands = append(cands, &dataset.Candidate{TaskID: p.TaskID, Index: &idx, Completion: &body})
	}
	lines, err := Evidence(ctx, sb, p, cands, EvidenceConfig{Examples: true, SelfInputs: SelfInputsDefault, Workers: 2, Budget: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		t.Logf("candidate %d: examples %d/%d, behaviour %.3f over %d inputs, score %.4g", i, l.ExamplesPassed, l.Examples, l.Behaviour, l.Inputs, l.Score)
	}
	if lines[0].Inputs < 5 {
		t.Fatalf("only %d inputs counted", lines[0].Inputs)
	}
	for _, wrong := range []int{2, 3, 4, 5} {
		for _, right := range []int{0, 1} {
			if lines[right].Behaviour <= lines[wrong].Behaviour || lines[right].Score <= lines[wrong].Score {
				t.Errorf("candidate %d (right) does not outrank %d: %+v vs %+v", right, wrong, lines[right], lines[wrong])
			}
		}
	}
	if lines[0].Behaviour != lines[1].Behaviour {
		t.Errorf("the two right candidates behave alike but score %v and %v", lines[0].Behaviour, lines[1].Behaviour)
	}
}

func TestDocstring(t *testing.T) {
	for _, c := range []struct{ prompt, want string }{
		{"def f(x):\n    \"\"\"Add one.\"\"\"\n", "Add one."},
		{"def g():\n    pass\n\ndef f(x):\n    '''Add\n    one.'''\n", "Add\n    one."},
		{"def f(x):\n    return x\n", ""},
		{"def g(x):\n    \"\"\"Not f's.\"\"\"\n", ""},
	} {
		if got := Docstring(c.prompt, "Solution().f"); got != c.want {
			t.Errorf("Docstring(%q) = %q, want %q", c.prompt, got, c.want)
		}
	}
}
