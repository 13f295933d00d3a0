package ranker

import (
	"slices"
	"sync"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX v0.26.0's stock gradient of DotGeneral multiplies the incoming
// gradient by the other operand with every axis broadcast and then sums:
// for y = x·W with x [B,L,d] and W [d,k] it materialises a [B,L,k,d]
// tensor. On the pure-Go backend one training step of a 2-layer d=128
// encoder took 734 s and 2.5 GB that way. The gradient of a contraction is
// itself a contraction, so dot records the axes of every DotGeneral the
// model builds and dotVJP answers with two DotGenerals instead (same values,
// O(size of the operands) memory). DotGenerals built elsewhere (not through
// dot) keep the stock gradient.
//
// Upstream note: the fix belongs in graph.dotGeneralVJP, which has the axes
// at hand; VJPRegistration is the only hook an outside package has.

type dotAxes struct {
	lhsContract, lhsBatch, rhsContract, rhsBatch []int
}

var (
	dotMu       sync.Mutex
	dotRecorded = map[*Node]dotAxes{}
	stockDotVJP VJP
	installOnce sync.Once
)

func installDotGradient() {
	installOnce.Do(func() {
		stockDotVJP = VJPRegistration[NodeTypeDotGeneral]
		VJPRegistration[NodeTypeDotGeneral] = dotVJP
	})
}

// dot is DotGeneral with a gradient that costs what the forward pass costs.
// Axes must be non-negative.
func dot(lhs *Node, lhsContract, lhsBatch []int, rhs *Node, rhsContract, rhsBatch []int) *Node {
	installDotGradient()
	out := DotGeneral(lhs, lhsContract, lhsBatch, rhs, rhsContract, rhsBatch)
	dotMu.Lock()
	dotRecorded[out] = dotAxes{slices.Clone(lhsContract), slices.Clone(lhsBatch), slices.Clone(rhsContract), slices.Clone(rhsBatch)}
	dotMu.Unlock()
	return out
}

// ForgetDots drops the recorded axes of a graph's nodes once it is compiled
// (the gradient is built before compilation, so they are no longer needed).
func ForgetDots(g *Graph) {
	dotMu.Lock()
	for n := range dotRecorded {
		if n.Graph() == g {
			delete(dotRecorded, n)
		}
	}
	dotMu.Unlock()
}

func crossAxes(rank int, contract, batch []int) []int {
	var out []int
	for a := 0; a < rank; a++ {
		if !slices.Contains(contract, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

func dotVJP(node *Node, vjps []*Node, outShape shapes.Shape) []*Node {
	dotMu.Lock()
	ax, ok := dotRecorded[node]
	dotMu.Unlock()
	if !ok {
		return stockDotVJP(node, vjps, outShape)
	}
	v := vjps[0]
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	nb := len(ax.lhsBatch)
	lc := crossAxes(lhs.Rank(), ax.lhsContract, ax.lhsBatch)
	rc := crossAxes(rhs.Rank(), ax.rhsContract, ax.rhsBatch)
	// Output axes: [batch..., lhs cross..., rhs cross...].
	vBatch := seq(0, nb)
	vLhsCross := seq(nb, len(lc))
	vRhsCross := seq(nb+len(lc), len(rc))
	return []*Node{
		contractionGrad(v, vBatch, vRhsCross, rhs, ax.rhsBatch, rc, ax.rhsContract, ax.lhsBatch, lc, ax.lhsContract, lhs.Rank()),
		contractionGrad(v, vBatch, vLhsCross, lhs, ax.lhsBatch, lc, ax.lhsContract, ax.rhsBatch, rc, ax.rhsContract, rhs.Rank()),
	}
}

// contractionGrad is the gradient for one operand ("this") of a DotGeneral:
// the output gradient v contracted with the other operand over the other
// operand's cross axes, batched over the batch axes, then permuted back to
// this operand's layout.
func contractionGrad(v *Node, vBatch, vOtherCross []int, other *Node, otherBatch, otherCross, otherContract []int,
	thisBatch, thisCross, thisContract []int, thisRank int) *Node {
	g := dot(v, vOtherCross, vBatch, other, otherCross, otherBatch)
	// g axes: [batch..., this cross..., other's remaining = otherContract in ascending axis order...].
	remaining := slices.Clone(otherContract)
	slices.Sort(remaining)
	perm := make([]int, thisRank) // perm[i] = axis of g that becomes axis i of this operand
	for i, a := range thisBatch {
		perm[a] = i
	}
	for i, a := range thisCross {
		perm[a] = len(thisBatch) + i
	}
	for k, a := range thisContract {
		pos := slices.Index(remaining, otherContract[k])
		perm[a] = len(thisBatch) + len(thisCross) + pos
	}
	identity := true
	for i, p := range perm {
		identity = identity && i == p
	}
	if identity {
		return g
	}
	return TransposeAllAxes(g, perm...)
}

func seq(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}
