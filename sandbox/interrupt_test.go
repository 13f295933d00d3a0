package sandbox

import (
	"context"
	"testing"
	"time"
)

// BenchmarkInterruptChecks measures what the close-on-context-done checks
// (the hard time limit) cost on a CPU-bound Python loop.
func BenchmarkInterruptChecks(b *testing.B) {
	req := fn("def f(x):\n    s = 0\n    for i in range(x):\n        s += i * i % 7\n    return s\n",
		"    assert candidate(300000) > 0\n")
	for _, c := range []struct {
		name string
		off  bool
	}{{"checks", false}, {"nochecks", true}} {
		b.Run(c.name, func(b *testing.B) {
			sb, err := New(context.Background(), Config{Timeout: time.Minute, noInterrupt: c.off})
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
