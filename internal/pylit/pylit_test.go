package pylit

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"1", "1"},
		{"-3", "-3"},
		{"+2.5", "2.5"},
		{"1_000", "1000"},
		{"0x1f", "31"},
		{"3.0", "3.0"},
		{"1e3", "1000.0"},
		{"1e30", "1e+30"},
		{".5", "0.5"},
		{"float('inf')", "float('inf')"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
		{"True", "True"},
		{"None", "None"},
		{`"it's"`, `'it\'s'`},
		{`'a\nb\t\x00'`, `'a\nb\t\x00'`},
		{`'caf\u00e9'`, `'café'`},
		{`r'\d+'`, `'\\d+'`},
		{`b'\xff'`, `b'\xff'`},
		{`'ab' "cd"`, `'abcd'`},
		{`"""x"y"""`, `'x"y'`},
		{"[1, [2, 3], []]", "[1, [2, 3], []]"},
		{"(1,)", "(1,)"},
		{"(1)", "1"},
		{"()", "()"},
		{"{1, 2,}", "{1, 2}"},
		{"set()", "set()"},
		{"{}", "{}"},
		{"{'a': [1, 2], 'b': {}}", "{'a': [1, 2], 'b': {}}"},
		{" [ -1 , ( 2 , 'x' ) ] ", "[-1, (2, 'x')]"},
	} {
		v, err := Parse(c.src)
		if err != nil {
			t.Errorf("Parse(%s): %v", c.src, err)
			continue
		}
		if got := v.String(); got != c.want {
			t.Errorf("Parse(%s).String() = %s, want %s", c.src, got, c.want)
		}
		// What String writes reads back to the same value.
		w, err := Parse(v.String())
		if err != nil || w.String() != v.String() {
			t.Errorf("%s does not read back: %v, %s", v, err, w)
		}
	}
}

func TestNotLiteral(t *testing.T) {
	for _, src := range []string{"x", "[1, y]", "f'{x}'", "1j", "[1, 2", "'abc", "1 + 2", "-'a'", "{1: 2, 3}", "01", "{1 2}", "{1: 2 3: 4}", "{1, 2",
		strings.Repeat("[", 100) + strings.Repeat("]", 100)} {
		if v, err := Parse(src); !errors.Is(err, ErrNotLiteral) {
			t.Errorf("Parse(%q) = %v, %v; want ErrNotLiteral", src, v, err)
		}
	}
}

func TestKindsAndClone(t *testing.T) {
	v, err := Parse("{'k': [1.5, -2, 'x', (True, None)], 'e': set()}")
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != Dict || v.Items[0].Kind != List || v.Items[0].Items[0].Kind != Float || v.Items[0].Items[3].Kind != Tuple ||
		v.Items[1].Kind != Set || v.Items[0].Items[1].I.Int64() != -2 {
		t.Fatalf("kinds: %#v", v)
	}
	c := v.Clone()
	c.Items[0].Items[1].I.SetInt64(7)
	c.Items[0].Items = append(c.Items[0].Items, IntValue(1))
	if v.String() == c.String() || v.Items[0].Items[1].I.Int64() != -2 {
		t.Errorf("clone shares state with the original: %s / %s", v, c)
	}
	if f, _ := Parse("float('nan')"); !math.IsNaN(f.F) {
		t.Errorf("nan: %v", f)
	}
}

func TestSplitTopLevel(t *testing.T) {
	got := SplitTopLevel(` 1, [2, 3], 'a,b', {"k": (4, 5)}, key=")", `)
	want := []string{"1", "[2, 3]", "'a,b'", `{"k": (4, 5)}`, `key=")"`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SplitTopLevel = %q, want %q", got, want)
	}
}

func TestBrackets(t *testing.T) {
	s := `f(a, "x)", [1, (2)], {'}': 3}) + g(1)`
	if got := MatchBracket(s, 1); got != strings.Index(s, " + ")-1 {
		t.Errorf("MatchBracket = %d, want %d", got, strings.Index(s, " + ")-1)
	}
	if got := MatchBracket("f(1", 1); got != -1 {
		t.Errorf("unclosed: %d", got)
	}
	for src, want := range map[string]bool{s: true, "f(1))": false, "f(1": false, `f(")")`: true, `f("`: false, "": true, ")(": false} {
		if Balanced(src) != want {
			t.Errorf("Balanced(%q) = %v", src, !want)
		}
	}
}

func TestIsName(t *testing.T) {
	for s, want := range map[string]bool{"x": true, "_a1": true, "nums2": true, "": false, "1a": false, "a.b": false, "a b": false, "é": false} {
		if IsName(s) != want {
			t.Errorf("IsName(%q) = %v", s, !want)
		}
	}
}
