package trainer

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/toppass/toppass/ranker"
)

func backend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := ranker.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func eval1(t *testing.T, fn func(g *Graph) *Node) float64 {
	t.Helper()
	e := MustNewExec(backend(t), fn)
	out := e.MustExec()
	return float64(tensors.MustCopyFlatData[float32](out[0])[0])
}

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-5 {
		t.Errorf("%s = %.6f, want %.6f", name, got, want)
	}
}

func f32(g *Graph, x ...float32) *Node { return Const(g, x) }

func TestTopPassHandComputed(t *testing.T) {
	// Rows: two positives (0.8, 0.5), two negatives (1.0, -1.0), and a
	// padding row that must be ignored even though it is a high-scored "positive".
	s := []float32{0.8, 0.5, 1.0, -1.0, 5}
	y := []float32{1, 1, 0, 0, 1}
	valid := []float32{1, 1, 1, 1, 0}
	// p = q = 0.5: the top positive (0.8) against the top negative (1.0):
	// l(0.8 - 1.0) = (1 + 0.2)² = 1.44.
	near(t, "top pass p=q=0.5", eval1(t, func(g *Graph) *Node {
		return TopPass(f32(g, s...), f32(g, y...), f32(g, valid...), 0.5, 0.5)
	}), 1.44)
	// p = q = 1: all four pairs: 1.44, l(1.8)=0, l(-0.5)=2.25, l(1.5)=0 → mean 0.9225.
	near(t, "top pass p=q=1", eval1(t, func(g *Graph) *Node {
		return TopPass(f32(g, s...), f32(g, y...), f32(g, valid...), 1, 1)
	}), (1.44+2.25)/4)
	// p = 1, q = 0.5: both positives against the top negative: (1.44 + 2.25) / 2.
	near(t, "top pass p=1 q=0.5", eval1(t, func(g *Graph) *Node {
		return TopPass(f32(g, s...), f32(g, y...), f32(g, valid...), 1, 0.5)
	}), (1.44+2.25)/2)
	// No negatives: no pairs, loss 0.
	near(t, "top pass without negatives", eval1(t, func(g *Graph) *Node {
		return TopPass(f32(g, 0.1, 0.2), f32(g, 1, 1), f32(g, 1, 1), 0.5, 0.5)
	}), 0)
}

func TestTopFractionTiesAndSelection(t *testing.T) {
	e := MustNewExec(backend(t), func(g *Graph) *Node {
		// member rows 0, 1, 3 (row 2 is not a member though highest)
		return topFraction(f32(g, 0.5, 0.5, 9, 0.7), f32(g, 1, 1, 0, 1), 0.5)
	})
	got := tensors.MustCopyFlatData[float32](e.MustExec()[0])
	// ceil(0.5·3) = 2 chosen: row 3 (0.7) and, of the tie at 0.5, row 0.
	want := []float32{1, 0, 0, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("selected %v, want %v", got, want)
		}
	}
}

func TestRankHingeAndBCE(t *testing.T) {
	// Rewards 3,2,1,0; scores 0, 1, 0.5, 0.2: the pairs ordered wrongly are
	// (1,0): 1.0, (2,0): 0.5, (3,0): 0.2; the other three are right → 1.7/6.
	near(t, "rrtf", eval1(t, func(g *Graph) *Node {
		return RankHinge(f32(g, 0, 1, 0.5, 0.2), f32(g, 3, 2, 1, 0), f32(g, 1, 1, 1, 1))
	}), 1.7/6)
	// s = 0 for both: each BCE is log 2 whatever the weights.
	near(t, "bce at 0", eval1(t, func(g *Graph) *Node {
		return WeightedBCE(f32(g, 0, 0), f32(g, 1, 0), f32(g, 1, 1), Const(g, float32(3)))
	}), math.Log(2))
	// s = 2 on a positive (weight 3) and on a negative (weight 1):
	// (3·log(1+e^-2) + log(1+e^2)) / 4.
	near(t, "weighted bce", eval1(t, func(g *Graph) *Node {
		return WeightedBCE(f32(g, 2, 2), f32(g, 1, 0), f32(g, 1, 1), Const(g, float32(3)))
	}), (3*math.Log1p(math.Exp(-2))+math.Log1p(math.Exp(2)))/4)
	// Large logits stay finite.
	v := eval1(t, func(g *Graph) *Node {
		return WeightedBCE(f32(g, 80, -80), f32(g, 0, 1), f32(g, 1, 1), Const(g, float32(1)))
	})
	near(t, "bce at ±80", v, 80)
}

func TestLineLossAndMaskedCE(t *testing.T) {
	// Uniform logits over 4 tokens, 2 of them on the line: -log(2/4).
	near(t, "line", eval1(t, func(g *Graph) *Node {
		return LineLoss(Const(g, [][]float32{{0, 0, 0, 0}}), Const(g, [][]float32{{0, 1, 1, 0}}), f32(g, 1))
	}), math.Log(2))
	// Rows outside the mask do not count.
	near(t, "masked ce", eval1(t, func(g *Graph) *Node {
		return MaskedCE(Const(g, [][]float32{{0, 0, 0}, {100, 0, 0}}), Const(g, []int32{1, 1}), f32(g, 1, 0))
	}), math.Log(3))
}
