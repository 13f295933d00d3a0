package sandbox

import (
	"context"
	"testing"
	"time"
)

// BenchmarkStoppers measures what each way of enforcing the time limit
// costs: a Python loop and bigint arithmetic (C loops), with the fuel
// count (default), wazero's close-on-context-done checks, and nothing (no
// limit at all, for reference).
func BenchmarkStoppers(b *testing.B) {
	loop := fn("def f(x):\n    s = 0\n    for i in range(x):\n        s += i * i % 7\n    return s\n",
		"    assert candidate(300000) > 0\n")
	bigint := fn("def f(x):\n    return 18 * 10 ** x\n", "    assert candidate(300000) > 0\n")
	for _, c := range []struct {
		name string
		stop stopper
		req  *Request
	}{
		{"loop/fuel", stopFuel, loop}, {"loop/checks", stopChecks, loop}, {"loop/none", stopNone, loop},
		{"bigint/fuel", stopFuel, bigint}, {"bigint/checks", stopChecks, bigint}, {"bigint/none", stopNone, bigint},
	} {
		req := c.req
		b.Run(c.name, func(b *testing.B) {
			sb, err := New(context.Background(), Config{Timeout: time.Minute, stopper: c.stop})
			if err != nil {
				b.Fatal(err)
			}
			defer sb.Close(context.Background())
			for b.Loop() {
				if res := run(b, sb, req); !res.Passed() {
					b.Fatal(res)
				}
			}
		})
	}
}

// wazero's own checks, kept as the benchmarks' comparison, stop runs at
// the wall clock (they cannot count fuel) and at the output limit.
func TestChecksStopperStopsRuns(t *testing.T) {
	sb, err := New(context.Background(), Config{Timeout: 300 * time.Millisecond, OutputLimit: 4096, stopper: stopChecks})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	if r := run(t, sb, fn("def f(x):\n    while True: pass\n", "    candidate(0)\n")); r.Stop != StopWallTimeout {
		t.Fatal(r.Stop)
	}
	if r := run(t, sb, fn("def f(x):\n    while True: print('x'*100)\n", "    candidate(0)\n")); r.Stop != StopOutputLimit {
		t.Fatal(r.Stop)
	}
	if r := run(t, sb, fn("def f(x):\n    return 1\n", "    assert candidate(0) == 1\n")); !r.Passed() {
		t.Fatal(r)
	}
}
