package ranker

import (
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDotGradientMatchesStock checks our DotGeneral gradient against
// GoMLX's own (slow) one on the axis layouts the model uses and on odd ones
// (contracting axes out of order, batch axes not leading).
func TestDotGradientMatchesStock(t *testing.T) {
	be := testBackend(t)
	installDotGradient()
	cases := []struct {
		name             string
		lhsDims, rhsDims []int
		lc, lb, rc, rb   []int
	}{
		{"dense", []int{3, 4, 5}, []int{5, 6}, []int{2}, nil, []int{0}, nil},
		{"attention scores", []int{2, 4, 3, 5}, []int{2, 6, 3, 5}, []int{3}, []int{0, 2}, []int{3}, []int{0, 2}},
		{"attention values", []int{2, 3, 4, 6}, []int{2, 6, 3, 5}, []int{3}, []int{0, 1}, []int{1}, []int{0, 2}},
		{"two contractions swapped", []int{3, 4, 5}, []int{5, 2, 4}, []int{1, 2}, nil, []int{2, 0}, nil},
		{"batch in the middle", []int{4, 3, 5}, []int{5, 3, 2}, []int{2}, []int{1}, []int{0}, []int{1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			grads := func(ours bool) []*tensors.Tensor {
				e := MustNewExec(be, func(g *Graph) []*Node {
					lhs := Iota(g, shapes.Make(dtypes.Float32, c.lhsDims...), 0)
					lhs = Sin(Add(lhs, MulScalar(IotaFull(g, lhs.Shape()), 0.37)))
					rhs := Cos(MulScalar(IotaFull(g, shapes.Make(dtypes.Float32, c.rhsDims...)), 0.21))
					var out *Node
					if ours {
						out = dot(lhs, c.lc, c.lb, rhs, c.rc, c.rb)
					} else {
						out = DotGeneral(lhs, c.lc, c.lb, rhs, c.rc, c.rb)
					}
					// A non-uniform weighting so each output element matters differently.
					w := Cos(MulScalar(IotaFull(g, out.Shape()), 0.13))
					loss := ReduceAllSum(Mul(out, w))
					return Gradient(loss, lhs, rhs)
				})
				return e.MustExec()
			}
			want, got := grads(false), grads(true)
			for i := range want {
				if !want[i].Shape().Equal(got[i].Shape()) {
					t.Fatalf("operand %d: shape %s, stock %s", i, got[i].Shape(), want[i].Shape())
				}
				if !got[i].InDelta(want[i], 1e-4) {
					t.Errorf("operand %d: gradient differs from stock:\n got %v\nwant %v", i, got[i], want[i])
				}
			}
		})
	}
}
