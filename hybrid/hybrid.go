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
	"behaviour", "behaviour_rank", "consensus_rank",
}

// Indexes into a feature row.
const (
	fNeuralLogit = iota
	fNeuralRank
	fExamplesFrac
	fExamplesAll
	fHasExamples
	fAgreementNorm
	fAgreementRank
	fClusterFrac
	fTestsFrac
	fBehaviour
	fBehaviourRank
	fConsensusRank
)

// Features of a problem's candidates, from the neural predictions, the
// execution score lines (same order, same length; exec may be nil: no
// execution evidence) and the candidates' lexical consensus
// (ranker.SimpleConsensus; nil: unknown).
func Features(preds []ranker.Prediction, exec []execrank.ScoreLine, consensus []float64) [][]float64 {
	n := len(preds)
	neural := make([]float64, n)
	agree := make([]float64, n)
	behave := make([]float64, n)
	maxAgree := 0.0
	for i, p := range preds {
		neural[i] = p.Score
		if exec != nil {
			agree[i] = exec[i].Agreement
			maxAgree = math.Max(maxAgree, agree[i])
			behave[i] = exec[i].Behaviour
		}
	}
	if consensus == nil {
		consensus = make([]float64, n)
	}
	nRank := rankPct(neural)
	aRank := rankPct(agree)
	bRank := rankPct(behave)
	cRank := rankPct(consensus)
	out := make([][]float64, n)
	for i, p := range preds {
		logit := math.Log(math.Max(p.PPass, 1e-6) / math.Max(1-p.PPass, 1e-6))
		f := []float64{logit / 5, nRank[i], 0, 0, 0, 0, aRank[i], 0, 0, behave[i], bRank[i], cRank[i]}
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

// RuleWeights weigh the evidence that orders candidates passing the same
// share of the prompt's examples.
type RuleWeights struct {
	Neural, Consensus, Behaviour, Agreement float64
}

// DefaultRule is the rule without a trained fusion.
var DefaultRule = RuleWeights{Neural: 1, Consensus: 0.5, Behaviour: 4, Agreement: 4}

// Rule is the fallback without a trained fusion (DefaultRule.Score).
func Rule(f []float64) float64 { return DefaultRule.Score(f) }

// Score ranks candidates passing more of the prompt's examples first (a
// stated example is near-certain evidence), then by a weighted mean of the
// neural rank, the lexical consensus rank, the behaviour agreement on the
// examples' and self-made inputs, and the dual-agreement rank with
// generated tests (when there are any), then by behaviour cluster.
func (w RuleWeights) Score(f []float64) float64 {
	mid := w.Neural*f[fNeuralRank] + w.Consensus*f[fConsensusRank] + w.Behaviour*f[fBehaviourRank]
	sum := w.Neural + w.Consensus + w.Behaviour
	if f[fAgreementNorm] > 0 || f[fAgreementRank] != 0.5 {
		mid += w.Agreement * f[fAgreementRank]
		sum += w.Agreement
	}
	if sum > 0 {
		mid /= sum
	}
	return 10*f[fExamplesFrac] + mid + 1e-3*f[fClusterFrac]
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
