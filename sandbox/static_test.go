package sandbox

import (
	"context"
	"slices"
	"testing"
)

func TestStaticModeFindsUndefinedNamesWithoutRunning(t *testing.T) {
	sb := testSandbox(t)
	cases := []struct {
		name, src string
		syntax    bool
		undefined []string
	}{
		{"clean", "from typing import List\n\ndef f(xs: List[int]) -> int:\n    return sum(helper(x) for x in xs)\n\ndef helper(x):\n    return abs(x)\n", false, nil},
		{"missing helper and import", "def f(x):\n    y = math.sqrt(x)\n    return is_prime(y)\n", false, []string{"is_prime", "math"}},
		{"global statement binds", "def init():\n    global cache\n    cache = {}\n\ndef f(k):\n    return cache.get(k)\n", false, nil},
		{"star import", "from math import *\n\ndef f(x):\n    return floor(sqrt(x)) + pi\n", false, nil},
		{"class scope and comprehension", "class A:\n    k = 3\n    v = [i * 2 for i in range(k)]\n\ndef f():\n    return A.v, undefined_thing\n", false, []string{"undefined_thing"}},
		{"never runs", "import sys\nsys.exit(3)\nwhile True:\n    pass\n", false, nil},
		{"syntax error", "def f(:\n    return 1\n", true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := sb.Run(context.Background(), &Request{Mode: ModeStatic, Source: c.src, CandLine: 1})
			if err != nil {
				t.Fatal(err)
			}
			if c.syntax {
				if res.ExecError != "SyntaxError" || res.Line != 1 {
					t.Fatalf("want a SyntaxError on line 1, got %+v", res.Reply)
				}
				return
			}
			if res.Stop != StopOK || res.Outcome != "pass" {
				t.Fatalf("static run: %s %+v", res.Stop, res.Reply)
			}
			if !slices.Equal(res.Undefined, c.undefined) {
				t.Errorf("undefined %v, want %v", res.Undefined, c.undefined)
			}
		})
	}
}
