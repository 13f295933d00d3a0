package trainer

import (
	"math/rand/v2"
	"testing"

	"github.com/toppass/toppass/hybrid"
)

// FitFusion learns which feature carries the labels: here passing
// candidates pass the examples, and the neural score is noise.
func TestFitFusionLearnsTheInformativeFeature(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var groups []FusionGroup
	for p := 0; p < 40; p++ {
		var g FusionGroup
		for i := 0; i < 20; i++ {
			pass := rng.Float64() < 0.3
			x := make([]float64, len(hybrid.FeatureNames))
			x[0], x[1] = rng.NormFloat64(), rng.Float64()
			if pass || rng.Float64() < 0.1 {
				x[2], x[3] = 1, 1
			}
			x[4] = 1
			g.X = append(g.X, x)
			g.Passed = append(g.Passed, pass)
		}
		groups = append(groups, g)
	}
	m, err := FitFusion(backend(t), groups, 300, "test")
	if err != nil {
		t.Fatal(err)
	}
	if m.Weights[2] < 0.5 || m.Weights[3] < 0 {
		t.Errorf("examples weights %v, %v: want clearly positive", m.Weights[2], m.Weights[3])
	}
	if abs(m.Weights[0]) > m.Weights[2]/3 {
		t.Errorf("noise feature weight %v vs examples %v", m.Weights[0], m.Weights[2])
	}
	if m.Std[4] <= 0 {
		t.Error("a constant feature must keep a positive std")
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
