package trainer

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/toppass/toppass/ranker"
)

// Losses. All work on one group (one problem's sampled candidates): s are
// the pass logits [G], y the labels [G] (1 pass, 0 fail), valid [G] marks
// real rows (groups are padded). Each returns a scalar.

// Targets are the labels of a group's rows, as graph nodes.
type Targets struct {
	Pass      *Node // [G] float32: 1 pass
	Valid     *Node // [G] float32
	Ternary   *Node // [G] int32: 0 pass, 1 intent error, 2 execution error
	Intent    *Node // [G] int32: index in ranker.IntentClasses
	Exec      *Node // [G] int32: index in ranker.ExecClasses
	Reward    *Node // [G] float32: RRTF tier (3 pass, 2 intent error, 1 runtime error, 0 no program)
	LineMask  *Node // [G, CandLen] float32: tokens on the failing line
	HasLine   *Node // [G] float32: the failing line lies in the tokens read
	PosWeight *Node // scalar: weight of a positive in cross-entropy
}

// Names of the losses (--loss).
var Losses = []string{"toppass", "ce", "coderanker", "rrtf"}

// LossParams are the losses' knobs.
type LossParams struct {
	Loss      string  // one of Losses
	TopP      float64 // Top Pass: fraction of positives (top-scored) paired
	TopQ      float64 // Top Pass: fraction of negatives (top-scored) paired
	Lambda    float64 // weight of cross-entropy added to Top Pass and RRTF
	AuxWeight float64 // weight of the fault heads (ternary, classes, line) in toppass/ce/rrtf
}

// DefaultLossParams: λ = 0.3 as in the Top Pass paper.
var DefaultLossParams = LossParams{Loss: "toppass", TopP: 0.5, TopQ: 0.5, Lambda: 0.3, AuxWeight: 0}

// Loss is the training loss for the chosen kind.
func Loss(p LossParams, out ranker.Outputs, t Targets) (*Node, error) {
	ce := WeightedBCE(out.Pass, t.Pass, t.Valid, t.PosWeight)
	aux := func() *Node {
		return AddN(
			MaskedCE(out.Ternary, t.Ternary, t.Valid),
			MaskedCE(out.Intent, t.Intent, Mul(t.Valid, ConvertDType(Equal(t.Ternary, OnesLike(t.Ternary)), t.Valid.DType()))),
			MaskedCE(out.Exec, t.Exec, Mul(t.Valid, ConvertDType(Equal(t.Ternary, AddScalar(OnesLike(t.Ternary), 1)), t.Valid.DType()))),
			LineLoss(out.Line, t.LineMask, Mul(t.Valid, t.HasLine)),
		)
	}
	var loss *Node
	switch p.Loss {
	case "toppass":
		loss = Add(TopPass(out.Pass, t.Pass, t.Valid, p.TopP, p.TopQ), MulScalar(ce, p.Lambda))
	case "ce":
		loss = ce
	case "rrtf":
		loss = Add(RankHinge(out.Pass, t.Reward, t.Valid), MulScalar(ce, p.Lambda))
	case "coderanker":
		return Add(ce, aux()), nil
	default:
		return nil, fmt.Errorf("unknown loss %q (want one of %v)", p.Loss, Losses)
	}
	if p.AuxWeight > 0 {
		loss = Add(loss, MulScalar(aux(), p.AuxWeight))
	}
	return loss, nil
}

// AddN sums nodes.
func AddN(xs ...*Node) *Node {
	s := xs[0]
	for _, x := range xs[1:] {
		s = Add(s, x)
	}
	return s
}

// WeightedBCE is binary cross-entropy on logits, positives weighted by
// posWeight, averaged over the valid rows' weights.
func WeightedBCE(s, y, valid, posWeight *Node) *Node {
	// log(1+e^s) - y·s, computed stably.
	bce := Sub(Add(Max(s, ZerosLike(s)), Log1p(Exp(Neg(Abs(s))))), Mul(y, s))
	w := Mul(valid, Add(Mul(y, SubScalar(posWeight, 1)), OnesLike(y)))
	return Div(ReduceAllSum(Mul(w, bce)), MaxScalar(ReduceAllSum(w), 1e-9))
}

// MaskedCE is softmax cross-entropy of logits [G, K] against class indices
// [G], averaged over rows where mask is 1 (0 when there are none).
func MaskedCE(logits, classes, mask *Node) *Node {
	k := logits.Shape().Dimensions[1]
	onehot := OneHot(classes, k, logits.DType())
	nll := Neg(ReduceSum(Mul(onehot, LogSoftmax(logits, -1)), -1))
	return Div(ReduceAllSum(Mul(nll, mask)), MaxScalar(ReduceAllSum(mask), 1))
}

// LineLoss: the negative log of the probability mass the per-token softmax
// puts on the failing line's tokens, over rows with a line.
func LineLoss(logits, lineMask, rows *Node) *Node {
	lp := LogSoftmax(logits, -1)
	// log Σ_{t on line} p_t, stably: logsumexp over masked log-probs.
	lse := logSumExp(Add(lp, MulScalar(OneMinus(lineMask), -1e9)))
	return Div(ReduceAllSum(Mul(Neg(lse), rows)), MaxScalar(ReduceAllSum(rows), 1))
}

// topFraction marks, among the rows with member = 1, the ceil(frac·count)
// with the highest scores (ties by lower row). No gradient flows through
// the choice.
func topFraction(s, member *Node, frac float64) *Node {
	g := s.Graph()
	ss := StopGradient(s)
	si := ExpandAxes(ss, -1) // [G,1] row i
	sj := ExpandAxes(ss, 0)  // [1,G] row j
	idx := Iota(g, s.Shape(), 0)
	ii := ExpandAxes(idx, -1)
	jj := ExpandAxes(idx, 0)
	// ahead[i,j] = j ranks above i
	ahead := LogicalOr(GreaterThan(sj, si), LogicalAnd(Equal(sj, si), LessThan(jj, ii)))
	aheadF := Mul(ConvertDType(ahead, s.DType()), ExpandAxes(member, 0))
	rank := ReduceSum(aheadF, -1) // rows of its class ranked above it
	count := ReduceAllSum(member)
	keep := Ceil(MulScalar(count, frac))
	return Mul(member, ConvertDType(LessThan(rank, keep), s.DType()))
}

// TopPass is the Top Pass pairwise loss: the mean over pairs (i, j) of the
// top-p fraction of positives and the top-q fraction of negatives (by
// current score) of the squared hinge l(s_i − s_j) = max(0, 1 − (s_i − s_j))².
// A group without both a positive and a negative contributes 0 (the
// cross-entropy term still sees it).
func TopPass(s, y, valid *Node, p, q float64) *Node {
	pos := Mul(y, valid)
	neg := Mul(OneMinus(y), valid)
	selPos := topFraction(s, pos, p)
	selNeg := topFraction(s, neg, q)
	diff := Sub(ExpandAxes(s, -1), ExpandAxes(s, 0)) // [i,j] = s_i - s_j
	hinge := Square(Max(OneMinus(diff), ZerosLike(diff)))
	w := Mul(ExpandAxes(selPos, -1), ExpandAxes(selNeg, 0))
	return Div(ReduceAllSum(Mul(w, hinge)), MaxScalar(ReduceAllSum(w), 1))
}

// RankHinge is the RRTF rank loss (PanGu-Coder2): over every pair whose
// rewards differ, max(0, s_low − s_high), averaged over the pairs.
func RankHinge(s, reward, valid *Node) *Node {
	lower := ConvertDType(LessThan(ExpandAxes(reward, -1), ExpandAxes(reward, 0)), s.DType()) // r_i < r_j
	w := Mul(lower, Mul(ExpandAxes(valid, -1), ExpandAxes(valid, 0)))
	diff := Sub(ExpandAxes(s, -1), ExpandAxes(s, 0)) // s_i - s_j
	return Div(ReduceAllSum(Mul(w, Max(diff, ZerosLike(diff)))), MaxScalar(ReduceAllSum(w), 1))
}
