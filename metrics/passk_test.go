package metrics

import (
	"math"
	"math/big"
	"testing"
)

// exact computes 1 - C(n-c,k)/C(n,k) with big integers.
func exact(n, c, k int) float64 {
	if n-c < k {
		return 1
	}
	num := new(big.Int).Binomial(int64(n-c), int64(k))
	den := new(big.Int).Binomial(int64(n), int64(k))
	r, _ := new(big.Rat).SetFrac(num, den).Float64()
	return 1 - r
}

func TestPassAtKKnownValues(t *testing.T) {
	cases := []struct {
		n, c, k int
		want    float64
	}{
		{10, 0, 1, 0}, {10, 10, 1, 1}, {10, 3, 1, 0.3}, {100, 22, 1, 0.22},
		{5, 1, 2, 0.4},     // 1 - C(4,2)/C(5,2) = 1 - 6/10
		{4, 2, 2, 5.0 / 6}, // 1 - C(2,2)/C(4,2) = 1 - 1/6
		{3, 1, 3, 1},       // n-c < k
	}
	for _, c := range cases {
		if got := PassAtK(c.n, c.c, c.k); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("PassAtK(%d,%d,%d) = %v, want %v", c.n, c.c, c.k, got, c.want)
		}
	}
	for _, n := range []int{1, 7, 100, 200} {
		for c := 0; c <= n; c += 1 + n/9 {
			for _, k := range []int{1, 2, 5, 10, 100} {
				if k > n {
					continue
				}
				if got, want := PassAtK(n, c, k), exact(n, c, k); math.Abs(got-want) > 1e-9 {
					t.Errorf("PassAtK(%d,%d,%d) = %v, exact %v", n, c, k, got, want)
				}
			}
		}
	}
}

func TestRankedPassAtK(t *testing.T) {
	s := func(score float64, ok bool) Scored { return Scored{score, ok} }
	cases := []struct {
		name  string
		cands []Scored
		k     int
		want  float64
	}{
		{"best first", []Scored{s(0.9, true), s(0.5, false), s(0.1, false)}, 1, 1},
		{"best fails", []Scored{s(0.9, false), s(0.5, true)}, 1, 0},
		{"k=2 reaches it", []Scored{s(0.9, false), s(0.5, true)}, 2, 1},
		{"all tied is random", []Scored{s(1, true), s(1, false), s(1, false), s(1, false)}, 1, 0.25},
		{"tie in the top group", []Scored{s(2, true), s(2, false), s(1, true)}, 1, 0.5},
		{"k spills into next group", []Scored{s(2, false), s(1, true), s(1, false)}, 2, 0.5},
		{"no candidates", nil, 1, 0},
	}
	for _, c := range cases {
		if got := RankedPassAtK(c.cands, c.k); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// Equal scores give exactly the unbiased random estimate.
	var eq []Scored
	for i := range 100 {
		eq = append(eq, s(0, i < 22))
	}
	for _, k := range []int{1, 2, 10} {
		if got, want := RankedPassAtK(eq, k), PassAtK(100, 22, k); math.Abs(got-want) > 1e-12 {
			t.Errorf("k=%d: tied ranking %v, random %v", k, got, want)
		}
	}
}
