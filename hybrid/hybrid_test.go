package hybrid

import (
	"path/filepath"
	"testing"

	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/ranker"
)

func TestRankPctTies(t *testing.T) {
	got := rankPct([]float64{3, 1, 3, 2})
	want := []float64{(2.0 + 3) / 2 / 3, 0, (2.0 + 3) / 2 / 3, 1.0 / 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rankPct = %v, want %v", got, want)
		}
	}
	if r := rankPct([]float64{5, 5}); r[0] != 0.5 || r[1] != 0.5 {
		t.Errorf("all equal: %v", r)
	}
}

func TestFeaturesAndRule(t *testing.T) {
	preds := []ranker.Prediction{{Score: 0.9, PPass: 0.9}, {Score: 0.2, PPass: 0.2}, {Score: 0.5, PPass: 0.5}}
	exec := []execrank.ScoreLine{
		{Examples: 2, ExamplesPassed: 1, Tests: 4, Passed: 4, Agreement: 8, Cluster: 1},
		{Examples: 2, ExamplesPassed: 2, Tests: 4, Passed: 1, Agreement: 1, Cluster: 2},
		{Examples: 2, ExamplesPassed: 2, Tests: 4, Passed: 3, Agreement: 6, Cluster: 2},
	}
	f := Features(preds, exec)
	if f[1][3] != 1 || f[0][3] != 0 || f[0][5] != 1 || f[1][8] != 0.25 {
		t.Fatalf("features %v", f)
	}
	// Both candidates passing all examples beat the one that does not,
	// whatever the neural score; between them, neural + agreement decide.
	r := []float64{Rule(f[0]), Rule(f[1]), Rule(f[2])}
	if !(r[2] > r[1] && r[1] > r[0]) {
		t.Errorf("rule scores %v: want 2 > 1 > 0", r)
	}
	// Without execution evidence the neural order stands.
	g := Features(preds, nil)
	if !(Rule(g[0]) > Rule(g[2]) && Rule(g[2]) > Rule(g[1])) {
		t.Errorf("neural-only rule order broken: %v", g)
	}
}

func TestFusionSaveLoad(t *testing.T) {
	m := &Fusion{Features: FeatureNames, Mean: make([]float64, len(FeatureNames)), Std: make([]float64, len(FeatureNames)), Weights: make([]float64, len(FeatureNames))}
	for i := range m.Std {
		m.Std[i] = 1
		m.Weights[i] = float64(i)
	}
	path := filepath.Join(t.TempDir(), "fusion.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	n, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{1, 1, 1, 1, 1, 1, 1, 1, 1}
	if n.Score(x) != m.Score(x) || m.Score(x) != 36 {
		t.Errorf("scores %v %v, want 36", n.Score(x), m.Score(x))
	}
	if _, err := Parse([]byte(`{"weights":[1],"mean":[0],"std":[1]}`)); err == nil {
		t.Error("a model with the wrong number of features was accepted")
	}
}
