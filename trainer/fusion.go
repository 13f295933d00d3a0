package trainer

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
	"github.com/toppass/toppass/hybrid"
)

// FusionGroup is one problem's candidates: fusion features and labels.
type FusionGroup struct {
	X      [][]float64
	Passed []bool
}

// FitFusion trains the hybrid ranker's linear model on labelled groups with
// a pairwise loss (RankNet): within each problem, log(1 + e^-(s_i - s_j))
// over the pairs of a passing i and a failing j, averaged per problem, then
// over problems (problems with no pass or no failure teach nothing about
// ranking and are left out). Only within-problem differences count, as in
// ranked pass@1: a pointwise cross-entropy over all candidates pooled also
// learns which problems are easy, which ranks nothing (on HumanEval ×
// CodeGen-16B a pooled logistic model over the set features ranked below
// the lexical consensus alone), and a listwise softmax did worse than the
// pairwise loss (docs/benchmarks.md). Features are standardised; small L2;
// Adam, full batch.
func FitFusion(backend backends.Backend, groups []FusionGroup, steps int, note string) (*hybrid.Fusion, error) {
	nf := len(hybrid.FeatureNames)
	var use []FusionGroup
	maxG := 0
	for _, g := range groups {
		pos := 0
		for i, x := range g.X {
			if len(x) != nf {
				return nil, fmt.Errorf("fusion: %d features, want %d", len(x), nf)
			}
			if g.Passed[i] {
				pos++
			}
		}
		if pos > 0 && pos < len(g.X) {
			use = append(use, g)
			maxG = max(maxG, len(g.X))
		}
	}
	if len(use) == 0 {
		return nil, fmt.Errorf("fusion: no problem has both passing and failing candidates")
	}
	var rows [][]float64
	for _, g := range use {
		rows = append(rows, g.X...)
	}
	m := hybrid.NewFusion(rows, nil, note)
	P := len(use)
	xs := make([]float32, P*maxG*nf)
	ys := make([]float32, P*maxG)
	mask := make([]float32, P*maxG)
	for p, g := range use {
		for i, x := range g.X {
			for j, v := range x {
				xs[(p*maxG+i)*nf+j] = float32((v - m.Mean[j]) / m.Std[j])
			}
			mask[p*maxG+i] = 1
			if g.Passed[i] {
				ys[p*maxG+i] = 1
			}
		}
	}
	ctx := mlctx.New()
	opt := optimizers.Adam().LearningRate(0.05).Done()
	step, err := mlctx.NewExec(backend, ctx, func(ctx *mlctx.Context, x, y, mk *Node) *Node {
		g := x.Graph()
		ctx.SetTraining(g, true)
		wv := ctx.WithInitializer(initializers.Zero).VariableWithShape("w", shapes.Make(dtypes.Float32, nf)).ValueGraph(g)
		s := DotGeneral(x, []int{2}, nil, wv, []int{0}, nil) // [P, G]
		// RankNet: log(1 + e^-(s_i - s_j)) over pairs (i passes, j fails), mean per problem.
		pos := Mul(y, mk)
		neg := Mul(OneMinus(y), mk)
		pair := Mul(ExpandAxes(pos, -1), ExpandAxes(neg, 1)) // [P, G, G]
		d := Sub(ExpandAxes(s, -1), ExpandAxes(s, 1))
		l := Add(Max(Neg(d), ZerosLike(d)), Log1p(Exp(Neg(Abs(d)))))
		perProblem := Div(ReduceSum(Mul(pair, l), 1, 2), ReduceSum(pair, 1, 2))
		loss := ReduceAllMean(perProblem)
		loss = Add(loss, MulScalar(ReduceAllSum(Square(wv)), 1e-3))
		opt.UpdateGraph(ctx, g, loss)
		return loss
	})
	if err != nil {
		return nil, err
	}
	xt := tensors.FromFlatDataAndDimensions(xs, P, maxG, nf)
	yt := tensors.FromFlatDataAndDimensions(ys, P, maxG)
	mt := tensors.FromFlatDataAndDimensions(mask, P, maxG)
	for i := 0; i < steps; i++ {
		if _, err := step.Exec(xt, yt, mt); err != nil {
			return nil, err
		}
	}
	for _, v := range tensors.MustCopyFlatData[float32](ctx.GetVariableByScopeAndName("/", "w").MustValue()) {
		m.Weights = append(m.Weights, float64(v))
	}
	return m, nil
}

// logSumExp over the last axis, stably.
func logSumExp(x *Node) *Node {
	mx := StopGradient(ReduceAndKeep(x, ReduceMax, -1))
	return Add(Squeeze(mx, -1), Log(ReduceSum(Exp(Sub(x, mx)), -1)))
}
