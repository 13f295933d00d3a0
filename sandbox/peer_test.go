package sandbox

import (
	"encoding/json"
	"strings"
	"testing"
)

// What crosses between the judge and the candidate keeps Python's
// semantics: values round-trip exactly, arguments changed in place are
// changed in the test too, exceptions keep their type and message, and
// classes and generators work as entry points and results.
func TestCrossingSemantics(t *testing.T) {
	sb := testSandbox(t)
	cases := []struct {
		name, src, test string
	}{
		{"scalars", "def f(x):\n    return x\n",
			"    for v in [None, True, False, 0, -7, 2**100, -3**700, 1.5, -0.0, float('inf'), -float('inf'), 1e308, 3+4j, 'héllo\\n', '\\ud800', b'\\x00\\xff', bytearray(b'ab')]:\n" +
				"        r = candidate(v)\n        assert type(r) is type(v) and r == v and repr(r) == repr(v), (v, r)\n" +
				"    import math\n    assert math.isnan(candidate(float('nan')))\n"},
		{"containers", "def f(x):\n    return x\n",
			"    import collections, fractions, decimal, datetime\n" +
				"    for v in [[1, [2, [3]]], (1, (2,)), {1, 2}, frozenset({3}), {'a': [1], 2: (3,)}, [], (), {}, set(),\n" +
				"              collections.Counter('abca'), collections.OrderedDict(a=1), collections.deque([1, 2], maxlen=5),\n" +
				"              fractions.Fraction(3, 7), decimal.Decimal('1.10'), range(2, 9, 3), datetime.date(2024, 2, 29),\n" +
				"              datetime.timedelta(days=1, seconds=5), [1.5, 'x', None, True, 2**40]]:\n" +
				"        r = candidate(v)\n        assert type(r) is type(v) and r == v, (v, r)\n" +
				"    d = candidate(collections.defaultdict(list, {1: [2]}))\n    assert d[1] == [2] and d[5] == []\n"},
		{"shared and cyclic references", "def f(x):\n    return x\n",
			"    a = [1]\n    r = candidate([a, a])\n    assert r == [[1], [1]] and r[0] is r[1]\n" +
				"    c = [1]\n    c.append(c)\n    r = candidate(c)\n    assert r[1] is r and r[0] == 1\n"},
		{"deep structure", "def f(n):\n    v = None\n    for i in range(n):\n        v = [i, v]\n    return v\n",
			"    v = candidate(50000)\n    n = 0\n    while v is not None:\n        n += 1\n        v = v[1]\n    assert n == 50000\n"},
		{"in-place changes", "def f(xs, d, s):\n    xs.sort()\n    xs.append(9)\n    d['k'] = 1\n    s.add(3)\n",
			"    xs, d, s = [3, 1, 2], {}, set()\n    keep = xs\n    assert candidate(xs, d, s) is None\n    assert keep == [1, 2, 3, 9] and d == {'k': 1} and s == {3}\n"},
		{"in-place nested", "def f(m):\n    m[0][0] = 5\n",
			"    m = [[1, 2], [3, 4]]\n    candidate(m)\n    assert m == [[5, 2], [3, 4]]\n"},
		{"keyword arguments", "def f(a, b=2, *, c=3):\n    return (a, b, c)\n",
			"    assert candidate(1, c=5) == (1, 2, 5)\n    assert candidate(a=0, b=1) == (0, 1, 3)\n"},
		{"exceptions keep type and message", "def f(x):\n    if x == 0:\n        raise ValueError('zero', 0)\n    if x == 1:\n        return {}['k']\n    class Custom(KeyError):\n        pass\n    raise Custom('mine')\n",
			"    try:\n        candidate(0)\n        assert False\n    except ValueError as e:\n        assert e.args == ('zero', 0)\n" +
				"    try:\n        candidate(1)\n        assert False\n    except KeyError as e:\n        assert str(e) == \"'k'\"\n" +
				"    try:\n        candidate(2)\n        assert False\n    except KeyError as e:\n        assert type(e).__name__ == 'Custom' and e.args == ('mine',)\n"},
		{"generators are materialised", "def f(n):\n    for i in range(n):\n        yield i * i\n",
			"    g = candidate(4)\n    assert next(g) == 0\n    assert list(g) == [1, 4, 9]\n    assert list(map(int, candidate(2))) == [0, 1]\n"},
		{"iterators are materialised", "def f(xs):\n    return reversed(xs)\n", "    assert list(candidate([1, 2])) == [2, 1]\n"},
		{"helpers the test names", "LIMIT = 10\ndef helper(x):\n    return x * 2\ndef f(x):\n    return helper(x) + LIMIT\n",
			"    assert candidate(1) == helper(1) + LIMIT == 12\n"},
		{"design class", "class Counter:\n    def __init__(self, start):\n        self.n = start\n    def add(self, k):\n        self.n += k\n        return self.n\n    def get(self):\n        return self.n\ndef f(x):\n    return x\n",
			"    c = Counter(5)\n    assert c.add(2) == 7\n    assert c.get() == 7\n    assert c.n == 7\n"},
		{"returned function", "def f(k):\n    return lambda x: x + k\n", "    assert candidate(3)(4) == 7\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, sb, fn(c.src, c.test))
			if !res.Passed() {
				t.Fatalf("%s: %s %s (line %d)", res.Outcome, res.Exception, res.Message, res.Line)
			}
		})
	}
}

func TestCrossingFailures(t *testing.T) {
	sb := testSandbox(t)
	cases := []struct {
		name, src, test      string
		outcome, intent, exc string
		line                 int
		message              string
	}{
		{"unsupported value", "def f(x):\n    class A:\n        pass\n    return A()\n", "    assert candidate(1) == 2\n",
			"fail", "wrong_type", "Unsupported", 0, "unsupported value of type A"},
		{"error line in the candidate", "def f(x):\n    y = 1\n    return y / 0\n", "    assert candidate(1) == 2\n",
			"error", "", "ZeroDivisionError", 3, "division by zero"},
		{"assert in the candidate is an error", "def f(x):\n    assert x > 5, 'small'\n    return x\n", "    assert candidate(1) == 1\n",
			"error", "", "AssertionError", 2, "small"},
		{"module-level error", "import nosuchmodule\ndef f(x):\n    return x\n", "    assert candidate(1) == 1\n",
			"error", "", "ModuleNotFoundError", 1, "nosuchmodule"},
		{"missing entry point", "def g(x):\n    return x\n", "    assert candidate(1) == 1\n",
			"error", "", "NotFound", 0, "entry point not found"},
		{"wrong value", "def f(x):\n    return [x]\n", "    assert candidate(1) == [1, 1]\n",
			"fail", "wrong_length", "AssertionError", 0, "expected [1, 1], got [1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, sb, fn(c.src, c.test))
			if res.Outcome != c.outcome || res.IntentError != c.intent || res.Exception != c.exc || res.Line != c.line ||
				!strings.Contains(res.Message, c.message) {
				t.Fatalf("got %s/%s %s %q line %d", res.Outcome, res.IntentError, res.Exception, res.Message, res.Line)
			}
		})
	}
}

// Classes as entry points (LeetCode's Solution().method) and the
// problem's own classes (ListNode) crossing as data both ways.
func TestCrossingProblemClasses(t *testing.T) {
	sb := testSandbox(t)
	setup := "class ListNode:\n    def __init__(self, val=0, next=None):\n        self.val = val\n        self.next = next\n" +
		"def to_list(n):\n    out = []\n    while n:\n        out.append(n.val)\n        n = n.next\n    return out\n" +
		"def from_list(xs):\n    head = None\n    for x in reversed(xs):\n        head = ListNode(x, head)\n    return head\n"
	src := "class Solution:\n    def reverse(self, head):\n        prev = None\n        while head:\n            head.next, prev, head = prev, head, head.next\n        return prev\n"
	test := "def check(candidate):\n    assert to_list(candidate(from_list([1, 2, 3]))) == [3, 2, 1]\n" +
		"    assert to_list(candidate(from_list(list(range(20000)))))[:2] == [19999, 19998]\n    assert candidate(None) is None\n" +
		"    assert to_list(Solution().reverse(from_list([4, 5]))) == [5, 4]\n"
	res := run(t, sb, &Request{Mode: ModeFunction, Setup: setup, Source: src, CandLine: 1, Entry: "Solution().reverse", Check: "check", Test: test})
	if !res.Passed() {
		t.Fatalf("%s: %s %s", res.Outcome, res.Exception, res.Message)
	}
	// Call mode (APPS call-based) through a class entry point.
	res = run(t, sb, &Request{Mode: ModeCall, Source: "class Solution:\n    def add(self, a, b):\n        return a + b\n", CandLine: 1,
		Entry: "Solution().add", Inputs: raw("[1, 2]", "[[1], [2]]"), Outputs: raw("3", "[1, 2]")})
	if !res.Passed() || res.TestsRun != 2 {
		t.Fatalf("call mode: %s %s %s", res.Outcome, res.Exception, res.Message)
	}
}

func raw(items ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(items))
	for i, s := range items {
		out[i] = json.RawMessage(s)
	}
	return out
}

// Probe mode: tests and calls are compiled once, in the judge; one that
// does not compile fails on its own.
func TestProbeCompilesOnce(t *testing.T) {
	sb := testSandbox(t)
	res := run(t, sb, &Request{Mode: ModeProbe, Source: "def f(x):\n    return x + 1\n", CandLine: 1, Entry: "f",
		Tests: []string{"assert f(1) == 2", "assert (", "assert f(2) == 4"}, Calls: []string{"f(1)", "f(", "g(1)"}})
	held, sigs, _ := strings.Cut(string(res.TestStdout), "|")
	parts := strings.Split(sigs, ";")
	if held != "100" || len(parts) != 4 || len(parts[0]) != 8 || parts[1] != "!SyntaxError" || parts[2] != "!NameError" {
		t.Fatalf("probe output %q", res.TestStdout)
	}
}
