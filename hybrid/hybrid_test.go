package hybrid

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/toppass/toppass/dataset"
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
	f := Features(preds, exec, nil)
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
	g := Features(preds, nil, nil)
	if !(Rule(g[0]) > Rule(g[2]) && Rule(g[2]) > Rule(g[1])) {
		t.Errorf("neural-only rule order broken: %v", g)
	}
	// Among candidates passing the same examples, agreement on the
	// self-made inputs and lexical consensus outvote one neural rank.
	exec = []execrank.ScoreLine{
		{Examples: 1, ExamplesPassed: 1, Behaviour: 0.2, Inputs: 10},
		{Examples: 1, ExamplesPassed: 1, Behaviour: 0.9, Inputs: 10},
		{Examples: 1, ExamplesPassed: 0, Behaviour: 0.9, Inputs: 10},
	}
	h := Features(preds, exec, []float64{0.1, 0.8, 0.9})
	if !(Rule(h[1]) > Rule(h[0]) && Rule(h[0]) > Rule(h[2])) {
		t.Errorf("behaviour and consensus do not decide among equals, or outrank an example: %v %v %v", Rule(h[0]), Rule(h[1]), Rule(h[2]))
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
	x := make([]float64, len(FeatureNames))
	for i := range x {
		x[i] = 1
	}
	want := float64(len(x) * (len(x) - 1) / 2)
	if n.Score(x) != m.Score(x) || m.Score(x) != want {
		t.Errorf("scores %v %v, want %v", n.Score(x), m.Score(x), want)
	}
	if _, err := Parse([]byte(`{"weights":[1],"mean":[0],"std":[1]}`)); err == nil {
		t.Error("a model with the wrong number of features was accepted")
	}
}

// Score's P(pass) comes from the calibration it is given (nil: the shipped
// one); the ranking score does not depend on it.
func TestScoreUsesTheGivenCalibration(t *testing.T) {
	be, err := ranker.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ranker.LoadDefault(be)
	if err != nil {
		t.Fatal(err)
	}
	var errs dataset.ErrorLog
	probs, order, byTask, err := ranker.ProblemCandidates("../testdata/sample/problems.jsonl", "../testdata/sample/candidates.jsonl", &errs)
	if err != nil || errs.Err() != nil {
		t.Fatal(err, errs.Err())
	}
	p, cands := probs[order[0]], byTask[order[0]]
	lines := make([]execrank.ScoreLine, len(cands))
	for i := range lines {
		lines[i] = execrank.ScoreLine{Examples: 2, ExamplesPassed: i % 3, Cluster: i % 2, Behaviour: float64(i%4) / 4}
	}
	shipped, err := Calibration()
	if err != nil {
		t.Fatal(err)
	}
	own := *shipped
	own.Bias -= 3
	ctx := context.Background()
	a, err := Score(ctx, m, nil, nil, nil, p, cands, lines)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Score(ctx, m, nil, nil, &own, p, cands, lines)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i].Score != b[i].Score {
			t.Errorf("#%d: score %v with the shipped calibration, %v with another", i, a[i].Score, b[i].Score)
		}
		if !(b[i].PPass < a[i].PPass) || a[i].PPass <= 0 || a[i].PPass >= 1 {
			t.Errorf("#%d: P(pass) %v shipped, %v with a bias 3 lower", i, a[i].PPass, b[i].PPass)
		}
	}
}
