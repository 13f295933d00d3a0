package ranker

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// perturbed is the shipped model with noise added to every float32
// weight: another "seed" of the same architecture and tokenizer.
func perturbed(t *testing.T, seed uint64) *Model {
	t.Helper()
	m, err := LoadDefault(testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 9))
	for v := range m.Ctx.IterVariables() {
		val, err := v.Value()
		if err != nil || val.DType() != dtypes.Float32 {
			continue
		}
		w := tensors.MustCopyFlatData[float32](val)
		for i := range w {
			w[i] += 0.05 * float32(rng.NormFloat64())
		}
		v.MustSetValue(tensors.FromFlatDataAndDimensions(w, val.Shape().Dimensions...))
	}
	return m
}

// An ensemble's pass logit is the mean of its members' (so is every
// head's: joining two ensembles averages all their members), the Go path
// and the graph agree on it, and it survives a save and a load; saving a
// smaller ensemble over it leaves no stale member.
func TestEnsembleAveragesLogits(t *testing.T) {
	a, b := perturbed(t, 1), perturbed(t, 2)
	e, err := Ensemble(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if e.Members() != a.Members()+b.Members() {
		t.Fatalf("%d members of %d and %d", e.Members(), a.Members(), b.Members())
	}
	probs, order, byTask := sample(t)
	logit := func(p float64) float64 { return math.Log(p / (1 - p)) }
	dir := t.TempDir()
	if err := e.Save(dir, false); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(testBackend(t), dir)
	if err != nil || loaded.Members() != e.Members() {
		t.Fatalf("loaded: %v, %d members", err, loaded.Members())
	}
	apart := 0.0
	for _, id := range order {
		g := e.Encode(ProblemText(probs[id]), Codes(byTask[id]), nil)
		pe, _ := e.Predict(g)
		pa, _ := a.Predict(g)
		pb, _ := b.Predict(g)
		pg, err := e.PredictGraph(g)
		if err != nil {
			t.Fatal(err)
		}
		pl, _ := loaded.Predict(g)
		for i := range pe {
			want := (logit(pa[i].Score) + logit(pb[i].Score)) / 2
			if d := math.Abs(logit(pe[i].Score) - want); d > 1e-4 {
				t.Errorf("%s #%d: ensemble logit %.5f, mean of the members' %.5f", id, i, logit(pe[i].Score), want)
			}
			if math.Abs(pe[i].PPass-pg[i].PPass) > 2e-5 {
				t.Errorf("%s #%d: Go path %.6f, graph %.6f", id, i, pe[i].PPass, pg[i].PPass)
			}
			if pl[i] != pe[i] {
				t.Errorf("%s #%d: after save and load %+v, before %+v", id, i, pl[i], pe[i])
			}
			apart = math.Max(apart, math.Abs(pa[i].Score-pb[i].Score))
		}
	}
	if apart < 1e-3 {
		t.Fatalf("the members score alike (largest difference %.2g): the test tells nothing", apart)
	}
	if err := a.Save(dir, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, MemberFile(a.Members()))); err == nil {
		t.Error("a smaller ensemble saved over a larger one left a member's weights")
	}
	if m, err := Load(testBackend(t), dir); err != nil || m.Members() != a.Members() {
		t.Fatalf("reloaded: %v", err)
	}
	// Models of other shapes make no ensemble.
	other := &Model{Config: a.Config, Tok: a.Tok, Ctx: a.Ctx, Backend: a.Backend}
	other.Config.Dim = 32
	if _, err := Ensemble(a, other); err == nil {
		t.Error("an ensemble of two architectures")
	}
}
