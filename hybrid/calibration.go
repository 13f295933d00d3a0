package hybrid

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sync"

	"github.com/toppass/toppass/metrics"
)

// P(pass) from the evidence.
//
// The editor shows each candidate's probability of passing. The neural
// ranker's own P(pass) is fit to the training generators' base rate: on
// HumanEval it says about 0.3 for gpt-4o's candidates, of which 93 % pass
// (expected calibration error 0.58). How often a generator is right shows
// in the evidence instead — candidates that pass the prompt's examples and
// behave like their siblings are right far more often than the text alone
// says — so the hybrid's P(pass) is a logistic model over the same
// Features the rule ranks by, fit pointwise (cross-entropy, with a bias:
// the level matters here, not only the order) on labelled candidates;
// `toppass generalization` measures it on generators it was not fit on.
// It never orders candidates: the rule (or a fusion) does; this only says
// how likely the candidate is to pass.

//go:embed calibration.json
var calibrationJSON []byte

var shipped = sync.OnceValues(func() (*Fusion, error) { return Parse(calibrationJSON) })

// Calibration is the shipped P(pass) model (docs/ranker.md says what it was
// fit on).
func Calibration() (*Fusion, error) { return shipped() }

// CalibrationID is the shipped P(pass) model's ID, taken once.
var CalibrationID = sync.OnceValue(func() string {
	m, err := shipped()
	if err != nil {
		return "" // TestShippedCalibration fails first
	}
	return m.ID()
})

// ID names a P(pass) model by a hash of its encoding: a cached ranking
// made under another has other P(pass).
func (m *Fusion) ID() string {
	b, _ := json.Marshal(m)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6])
}

// PPass is the probability that a candidate with features f passes: the
// model's score through the logistic function.
func (m *Fusion) PPass(f []float64) float64 { return 1 / (1 + math.Exp(-m.Score(f))) }

// NewFusion is a model with no weights yet whose features are
// standardised by the mean and standard deviation of rows x, row i weighing
// w[i] (nil: all alike); a constant feature gets a deviation of 1e-6.
func NewFusion(x [][]float64, w []float64, note string) *Fusion {
	nf := len(FeatureNames)
	m := &Fusion{Features: FeatureNames, Mean: make([]float64, nf), Std: make([]float64, nf), Note: note}
	weight := func(i int) float64 {
		if w == nil {
			return 1
		}
		return w[i]
	}
	var total float64
	for i, f := range x {
		total += weight(i)
		for j, v := range f {
			m.Mean[j] += weight(i) * v
		}
	}
	for j := range m.Mean {
		m.Mean[j] /= total
	}
	for i, f := range x {
		for j, v := range f {
			m.Std[j] += weight(i) * (v - m.Mean[j]) * (v - m.Mean[j])
		}
	}
	for j := range m.Std {
		m.Std[j] = math.Max(math.Sqrt(m.Std[j]/total), 1e-6)
	}
	return m
}

// Labelled is one problem's candidates with their Features and labels, and
// the weight the problem carries in a fit (its candidates share it).
type Labelled struct {
	X      [][]float64
	Passed []bool
	Weight float64
}

// FitCalibration fits the P(pass) model on labelled groups: features
// standardised over the groups (by weight), a small ridge.
func FitCalibration(groups []Labelled, note string) (*Fusion, error) {
	nf := len(FeatureNames)
	x, y, wt := rows(groups)
	for _, f := range x {
		if len(f) != nf {
			return nil, fmt.Errorf("calibration: %d features, want %d", len(f), nf)
		}
	}
	if len(x) == 0 {
		return nil, fmt.Errorf("calibration: no labelled candidates")
	}
	m := NewFusion(x, wt, note)
	z := make([][]float64, len(x))
	for i, f := range x {
		z[i] = make([]float64, nf)
		for j, v := range f {
			z[i][j] = (v - m.Mean[j]) / m.Std[j]
		}
	}
	m.Weights, m.Bias = metrics.FitLogistic(z, y, wt, 1e-3)
	return m, nil
}

// Refit rescales base to the level of a generator from its labelled
// candidates (a user's): Platt scaling over base's logit, P(pass) =
// σ(a·s + b), fit by cross-entropy, each group weighing its Weight. The
// features keep their relative weights — only how optimistic and how sure
// P(pass) is change — so two parameters learn from a few dozen labelled
// problems what the full model would need hundreds for. An error when the
// candidates do not both pass and fail, or when the evidence orders them
// the wrong way round (a slope ≤ 0: nothing a rescaling should follow).
func Refit(base *Fusion, groups []Labelled, note string) (*Fusion, error) {
	fs, y, wt := rows(groups)
	x := make([][]float64, len(fs))
	var pass, fail bool
	for i, f := range fs {
		if len(f) != len(base.Weights) {
			return nil, fmt.Errorf("refit: %d features, want %d", len(f), len(base.Weights))
		}
		x[i] = []float64{base.Score(f)}
		pass, fail = pass || y[i], fail || !y[i]
	}
	if !pass || !fail {
		return nil, fmt.Errorf("refit: the labelled candidates need to both pass and fail (%d candidates)", len(x))
	}
	w, b := metrics.FitLogistic(x, y, wt, 1e-3)
	a := w[0]
	if a <= 0 {
		return nil, fmt.Errorf("refit: on these labels the evidence does not rise with passing (slope %.3g)", a)
	}
	m := &Fusion{Features: base.Features, Mean: base.Mean, Std: base.Std, Weights: make([]float64, len(base.Weights)),
		Bias: a*base.Bias + b, Note: note}
	for i, v := range base.Weights {
		m.Weights[i] = a * v
	}
	return m, nil
}

// LogLoss is the cross-entropy of m's P(pass) on labelled candidates, each
// group weighing its Weight (the held-out measure a refit must improve).
func LogLoss(m *Fusion, groups []Labelled) float64 {
	var sum, total float64
	x, y, wt := rows(groups)
	for i, f := range x {
		p := math.Min(1-1e-9, math.Max(1e-9, m.PPass(f)))
		if !y[i] {
			p = 1 - p
		}
		sum -= wt[i] * math.Log(p)
		total += wt[i]
	}
	if total == 0 {
		return 0
	}
	return sum / total
}

// rows flattens labelled groups into candidates: features, outcome, and
// weight (the group's, shared by its candidates); empty and weightless
// groups are left out.
func rows(groups []Labelled) (x [][]float64, y []bool, wt []float64) {
	for _, g := range groups {
		if len(g.X) == 0 || g.Weight <= 0 {
			continue
		}
		per := g.Weight / float64(len(g.X))
		for i, f := range g.X {
			x, y, wt = append(x, f), append(y, g.Passed[i]), append(wt, per)
		}
	}
	return x, y, wt
}
