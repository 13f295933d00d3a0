package ranker

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// The Go inference path computes what the graph computes: the same
// logits (to float32 rounding) and so the same predictions, on the
// sample's problems, on an empty candidate, on candidates cut at CandLen
// and on a group larger than one bucket (every member of an ensemble:
// TestEnsembleAveragesLogits).
func TestGoInferenceEqualsGraph(t *testing.T) {
	m, err := LoadDefault(testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	probs, order, byTask := sample(t)
	var groups []*Group
	for _, id := range order {
		groups = append(groups, m.Encode(ProblemText(probs[id]), Codes(byTask[id]), nil))
	}
	// A large group: every sample candidate, an empty one and a long one,
	// under an empty problem text.
	var all []string
	for _, id := range order {
		all = append(all, Codes(byTask[id])...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	long := strings.Repeat("x = [i * 2 for i in range(10) if i % 3]\n", 40)
	all = append(all, "", long)
	for len(all) < 37 {
		all = append(all, all[rng.IntN(len(all))]+"\n# v"+string(rune('a'+len(all)%26)))
	}
	groups = append(groups, m.Encode("", all, nil))

	if !m.GoPath() {
		t.Fatal("the pure-Go backend does not take the Go path")
	}
	for gi, g := range groups {
		want, err := m.PredictGraph(g)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Predict(g) // the Go path, every member
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || len(want) != len(g.Cands) {
			t.Fatalf("group %d: %d predictions from Go, %d from the graph, %d candidates", gi, len(got), len(want), len(g.Cands))
		}
		maxDiff := 0.0
		for i := range want {
			maxDiff = math.Max(maxDiff, math.Abs(want[i].PPass-got[i].PPass))
		}
		t.Logf("group %d: %d candidates, largest P(pass) difference %.2g", gi, len(g.Cands), maxDiff)
		for i := range want {
			w, o := want[i], got[i]
			if math.Abs(w.PPass-o.PPass) > 2e-5 || math.Abs(w.PIntent-o.PIntent) > 2e-5 || math.Abs(w.ErrorLineP-o.ErrorLineP) > 1e-4 ||
				w.Fault != o.Fault && math.Abs(w.FaultP-o.FaultP) > 1e-4 || w.ErrorLine != o.ErrorLine && math.Abs(w.ErrorLineP-o.ErrorLineP) > 1e-4 {
				t.Errorf("group %d candidate %d: graph %+v, Go %+v", gi, i, w, o)
			}
		}
	}
}

// When the weights change (a training step), the Go path's copy follows.
func TestGoInferenceFollowsWeights(t *testing.T) {
	m, err := LoadDefault(testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	g := m.Encode("def f(x):\n    return x\n", []string{"def f(x):\n    return x\n", "def f(x):\n    return 0\n"}, nil)
	before, err := m.Predict(g)
	if err != nil {
		t.Fatal(err)
	}
	v := m.Ctx.GetVariableByScopeAndName("/head_pass", "biases")
	if v == nil {
		t.Fatal("no /head_pass biases")
	}
	val, _ := v.Value()
	b := tensors.MustCopyFlatData[float32](val)
	b[0] += 3
	v.MustSetValue(tensors.FromFlatDataAndDimensions(b, val.Shape().Dimensions...))
	after, err := m.Predict(g)
	if err != nil {
		t.Fatal(err)
	}
	if after[0].PPass <= before[0].PPass {
		t.Errorf("P(pass) %v → %v after raising the bias: the Go path kept stale weights", before[0].PPass, after[0].PPass)
	}
}
