// Package metrics computes what toppass reports about candidate sets:
// unbiased random pass@k (Chen et al., 2021), ranked pass@k (the top k
// candidates of a ranking), the oracle, and exec@k.
package metrics

import (
	"math"
	"sort"
)

// PassAtK is the unbiased estimator of pass@k for one problem with n
// candidates of which c pass: 1 - C(n-c, k) / C(n, k), computed as a
// product so that it stays exact for large n.
func PassAtK(n, c, k int) float64 {
	if k <= 0 || n <= 0 {
		return 0
	}
	if n-c < k {
		return 1
	}
	p := 1.0
	for i := n - c + 1; i <= n; i++ {
		p *= 1 - float64(k)/float64(i)
	}
	return 1 - p
}

// Scored is one candidate of a problem: its score (higher is better) and
// whether it passed.
type Scored struct {
	Score  float64
	Passed bool
}

// RankedPassAtK is the probability that at least one of the k
// best-scored candidates passes, with ties broken uniformly at random (so
// a ranking that scores everything equal gets random pass@k).
func RankedPassAtK(cands []Scored, k int) float64 {
	if len(cands) == 0 || k <= 0 {
		return 0
	}
	s := append([]Scored(nil), cands...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Score > s[j].Score })
	// Walk the score groups; the k slots fill group by group, and only the
	// last group touched is sampled.
	failAll := 1.0
	left := k
	for i := 0; i < len(s) && left > 0; {
		j := i
		passed := 0
		for j < len(s) && s[j].Score == s[i].Score {
			if s[j].Passed {
				passed++
			}
			j++
		}
		g := j - i
		take := min(left, g)
		// P(no pass among take drawn from g with `passed` passing).
		failAll *= 1 - PassAtK(g, passed, take)
		left -= take
		i = j
	}
	return 1 - failAll
}

// Oracle is 1 if any candidate passes.
func Oracle(cands []Scored) float64 {
	for _, c := range cands {
		if c.Passed {
			return 1
		}
	}
	return 0
}

// Round2 rounds a percentage for reports.
func Round2(x float64) float64 { return math.Round(x*100) / 100 }
