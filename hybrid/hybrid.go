// Package hybrid fuses the neural ranker's score with execution evidence
// (the prompt's examples, CodeT dual agreement with model-generated tests,
// behaviour clusters) into one score per candidate: a logistic model
// trained on labels (trainer.FitFusion) when one is given, else a rule.
package hybrid

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/ranker"
)

// Feature names, in order.
var FeatureNames = []string{
	"neural_logit", "neural_rank", "examples_passed_frac", "examples_all_passed", "has_examples",
	"agreement_norm", "agreement_rank", "cluster_frac", "tests_passed_frac",
}

// Features of a problem's candidates, from the neural predictions and the
// execution score lines (same order, same length; exec may be nil: no
// execution evidence).
func Features(preds []ranker.Prediction, exec []execrank.ScoreLine) [][]float64 {
	n := len(preds)
	neural := make([]float64, n)
	agree := make([]float64, n)
	maxAgree := 0.0
	for i, p := range preds {
		neural[i] = p.Score
		if exec != nil {
			agree[i] = exec[i].Agreement
			maxAgree = math.Max(maxAgree, agree[i])
		}
	}
	nRank := rankPct(neural)
	aRank := rankPct(agree)
	out := make([][]float64, n)
	for i, p := range preds {
		logit := math.Log(math.Max(p.PPass, 1e-6) / math.Max(1-p.PPass, 1e-6))
		f := []float64{logit / 5, nRank[i], 0, 0, 0, 0, aRank[i], 0, 0}
		if exec != nil {
			e := exec[i]
			if e.Examples > 0 {
				f[2] = float64(e.ExamplesPassed) / float64(e.Examples)
				if e.ExamplesPassed == e.Examples {
					f[3] = 1
				}
				f[4] = 1
			}
			if maxAgree > 0 {
				f[5] = agree[i] / maxAgree
			}
			f[7] = float64(e.Cluster) / float64(n)
			if e.Tests > 0 {
				f[8] = float64(e.Passed) / float64(e.Tests)
			}
		}
		out[i] = f
	}
	return out
}

// rankPct maps values to their average rank in [0, 1] (1 = highest; ties
// share their mean rank; all equal → 0.5).
func rankPct(x []float64) []float64 {
	n := len(x)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	out := make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		r := float64(i+j) / 2
		for k := i; k <= j; k++ {
			if n > 1 {
				out[idx[k]] = r / float64(n-1)
			} else {
				out[idx[k]] = 0.5
			}
		}
		i = j + 1
	}
	return out
}

// Rule is the fallback without a trained fusion: candidates passing more of
// the prompt's examples first (a stated example is near-certain evidence),
// then the mean of the neural and the dual-agreement rank, then the
// behaviour cluster.
func Rule(f []float64) float64 {
	ex := f[2]
	mid := f[1]
	if f[5] > 0 || f[6] != 0.5 {
		mid = (f[1] + f[6]) / 2
	}
	return 10*ex + mid + 1e-3*f[7]
}

// Fusion is a logistic model over standardised Features.
type Fusion struct {
	Features []string  `json:"features"`
	Mean     []float64 `json:"mean"`
	Std      []float64 `json:"std"`
	Weights  []float64 `json:"weights"`
	Bias     float64   `json:"bias"`
	Note     string    `json:"note,omitempty"`
}

// Score is the fused logit of one candidate.
func (m *Fusion) Score(f []float64) float64 {
	s := m.Bias
	for i, w := range m.Weights {
		s += w * (f[i] - m.Mean[i]) / m.Std[i]
	}
	return s
}

// Load reads a fusion model and checks it matches Features.
func Load(path string) (*Fusion, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse decodes a fusion model.
func Parse(b []byte) (*Fusion, error) {
	var m Fusion
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("fusion model: %w", err)
	}
	if len(m.Weights) != len(FeatureNames) || len(m.Mean) != len(FeatureNames) || len(m.Std) != len(FeatureNames) {
		return nil, fmt.Errorf("fusion model has %d weights, this toppass computes %d features", len(m.Weights), len(FeatureNames))
	}
	for i, s := range m.Std {
		if s <= 0 {
			return nil, fmt.Errorf("fusion model: feature %d has std %v", i, s)
		}
	}
	return &m, nil
}

// Save writes the model as JSON.
func (m *Fusion) Save(path string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
