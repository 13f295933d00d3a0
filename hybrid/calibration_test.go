package hybrid

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/metrics"
	"github.com/toppass/toppass/ranker"
)

// synthetic makes problems whose candidates pass with a probability set by
// the evidence: passing the examples and behaving like the others.
func synthetic(rng *rand.Rand, problems, n int, base float64) []Labelled {
	var out []Labelled
	for range problems {
		preds := make([]ranker.Prediction, n)
		lines := make([]execrank.ScoreLine, n)
		var passed []bool
		for i := range n {
			ex := rng.IntN(3)
			beh := rng.Float64()
			z := base + 2.5*float64(ex) - 3 + 2*beh
			p := 1 / (1 + math.Exp(-z))
			preds[i] = ranker.Prediction{Score: rng.Float64(), PPass: 0.3}
			lines[i] = execrank.ScoreLine{Examples: 2, ExamplesPassed: ex, Behaviour: beh}
			passed = append(passed, rng.Float64() < p)
		}
		out = append(out, Labelled{X: Features(preds, lines, nil), Passed: passed, Weight: 1})
	}
	return out
}

func TestFitCalibrationIsCalibrated(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m, err := FitCalibration(synthetic(rng, 300, 20, 0), "test")
	if err != nil {
		t.Fatal(err)
	}
	// On fresh problems of the same kind, the predictions are calibrated
	// (the neural P(pass) given, a constant 0.3, is not: about half pass).
	var p, given []float64
	var y []bool
	for _, g := range synthetic(rng, 200, 20, 0) {
		for i, f := range g.X {
			p, given, y = append(p, m.PPass(f)), append(given, 0.3), append(y, g.Passed[i])
		}
	}
	if e := metrics.Calibrate(p, y, 10).ECE; e > 0.03 {
		t.Errorf("ECE %.3f on fresh problems", e)
	}
	if e := metrics.Calibrate(given, y, 10).ECE; e < 0.1 {
		t.Errorf("the constant's ECE %.3f: the test's data do not separate", e)
	}
	// More examples passed, more likely to pass.
	lo, hi := make([]float64, len(FeatureNames)), make([]float64, len(FeatureNames))
	lo[fHasExamples], hi[fHasExamples] = 1, 1
	hi[fExamplesFrac], hi[fExamplesAll] = 1, 1
	if !(m.PPass(hi) > m.PPass(lo)+0.3) {
		t.Errorf("P(pass) all examples %.2f, none %.2f", m.PPass(hi), m.PPass(lo))
	}
	// Weights: a set of easy problems (base +3) weighing ten times more
	// than the hard ones moves the mean prediction up.
	easy := synthetic(rng, 100, 20, 3)
	hard := synthetic(rng, 100, 20, -3)
	mean := func(wEasy float64) float64 {
		var gs []Labelled
		for _, g := range easy {
			g.Weight = wEasy
			gs = append(gs, g)
		}
		gs = append(gs, hard...)
		m, err := FitCalibration(gs, "")
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, g := range gs {
			for _, f := range g.X {
				s += m.PPass(f)
			}
		}
		return s / float64(40*100)
	}
	if a, b := mean(1), mean(10); !(b > a+0.1) {
		t.Errorf("mean P(pass) with easy problems weighing 1: %.2f, 10: %.2f", a, b)
	}
	if _, err := FitCalibration(nil, ""); err == nil {
		t.Error("no groups: no error")
	}
}

// TestShippedCalibration checks the P(pass) model toppass ships: it is a
// fit (not a placeholder), it matches the features, and it says what the
// evidence says: a candidate that passes the examples and behaves like
// most others is likelier to pass than one that fails them or stands
// alone, and neither is certain.
func TestShippedCalibration(t *testing.T) {
	m, err := Calibration()
	if err != nil {
		t.Fatal(err)
	}
	if m.Note == "" || m.Note == "bootstrap" {
		t.Fatalf("shipped calibration is not a fit: note %q", m.Note)
	}
	preds := []ranker.Prediction{{Score: 0.5, PPass: 0.5}, {Score: 0.5, PPass: 0.5}, {Score: 0.5, PPass: 0.5}, {Score: 0.5, PPass: 0.5}}
	lines := []execrank.ScoreLine{
		{Examples: 3, ExamplesPassed: 3, Behaviour: 0.8, Cluster: 3, Inputs: 10},
		{Examples: 3, ExamplesPassed: 3, Behaviour: 0.8, Cluster: 3, Inputs: 10},
		{Examples: 3, ExamplesPassed: 3, Behaviour: 0.8, Cluster: 3, Inputs: 10},
		{Examples: 3, ExamplesPassed: 0, Behaviour: 0.1, Cluster: 1, Inputs: 10},
	}
	f := Features(preds, lines, []float64{0.5, 0.5, 0.5, 0.2})
	good, bad := m.PPass(f[0]), m.PPass(f[3])
	if !(good > bad+0.3) || good >= 1 || bad <= 0 {
		t.Errorf("P(pass): passes the examples, with the majority %.3f; fails them, alone %.3f", good, bad)
	}
}

// Refit moves a P(pass) model fit on one generator's level to another's
// from a few dozen labelled problems: on fresh problems of the new level
// its error and log-loss fall below the base model's, and its order of
// candidates is the base model's.
func TestRefit(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	base, err := FitCalibration(synthetic(rng, 300, 20, -2), "weak generator")
	if err != nil {
		t.Fatal(err)
	}
	user := synthetic(rng, 30, 10, 2) // a stronger generator: 30 labelled problems
	m, err := Refit(base, user, "user")
	if err != nil {
		t.Fatal(err)
	}
	fresh := synthetic(rng, 300, 10, 2)
	ece := func(m *Fusion) float64 {
		var p []float64
		var y []bool
		for _, g := range fresh {
			for i, f := range g.X {
				p, y = append(p, m.PPass(f)), append(y, g.Passed[i])
			}
		}
		return metrics.Calibrate(p, y, 10).ECE
	}
	eb, em := ece(base), ece(m)
	t.Logf("ECE on the stronger generator's fresh problems: base %.3f, refit %.3f", eb, em)
	if !(eb > 0.1 && em < 0.05) {
		t.Errorf("ECE base %.3f, refit %.3f", eb, em)
	}
	if lb, lm := LogLoss(base, fresh), LogLoss(m, fresh); !(lm < lb) {
		t.Errorf("log-loss base %.3f, refit %.3f", lb, lm)
	}
	for _, g := range fresh[:20] {
		for i := 1; i < len(g.X); i++ {
			if (base.Score(g.X[i]) > base.Score(g.X[i-1])) != (m.Score(g.X[i]) > m.Score(g.X[i-1])) {
				t.Fatalf("the refit reorders candidates")
			}
		}
	}
	// Labels that fall as the evidence rises: no refit.
	var inverted []Labelled
	for _, g := range user {
		h := Labelled{X: g.X, Weight: 1}
		for i := range g.X {
			h.Passed = append(h.Passed, base.Score(g.X[i]) < base.Score(user[0].X[0]))
		}
		inverted = append(inverted, h)
	}
	if _, err := Refit(base, inverted, ""); err == nil || !strings.Contains(err.Error(), "slope") {
		t.Errorf("inverted labels: %v", err)
	}
	// One class only (all fail): nothing to learn a level from.
	allPass := []Labelled{{X: user[0].X, Passed: make([]bool, len(user[0].X)), Weight: 1}}
	if _, err := Refit(base, allPass, ""); err == nil {
		t.Error("one class only: no error")
	}
}
