//go:build xla

package ranker

import (
	"math"
	"os"
	"sort"
	"testing"
)

// xlaBackendSpec is the XLA backend the tests below open:
// $TOPPASS_XLA_BACKEND, or xla:cuda.
func xlaBackendSpec() string {
	if s := os.Getenv("TOPPASS_XLA_BACKEND"); s != "" {
		return s
	}
	return "xla:cuda"
}

// The shipped model scores the sample on the XLA backend (the graph,
// compiled by XLA for the GPU) as the pure-Go inference path does: P(pass)
// within the float error of a GPU's matrix units, and each problem's
// candidates in the same order up to near ties. Skips when no PJRT plugin
// for the backend loads (a build with -tags xla on a machine without one).
func TestXLAScoresAsGo(t *testing.T) {
	spec := xlaBackendSpec()
	xb, err := NewBackend(spec)
	if err != nil {
		t.Skipf("backend %s does not open here (%v): set PJRT_PLUGIN_LIBRARY_PATH to a folder holding its PJRT plugin", spec, err)
	}
	t.Logf("backend %s: %s", spec, xb.Description())
	mx, err := LoadDefault(xb)
	if err != nil {
		t.Fatal(err)
	}
	mg, err := LoadDefault(testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	probs, order, byTask := sample(t)
	worst := 0.0
	for _, id := range order {
		text, codes := ProblemText(probs[id]), Codes(byTask[id])
		want, err := mg.Predict(mg.Encode(text, codes, nil))
		if err != nil {
			t.Fatal(err)
		}
		got, err := mx.Predict(mx.Encode(text, codes, nil))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d predictions on %s, %d on go", id, len(got), spec, len(want))
		}
		for i := range want {
			d := math.Abs(want[i].PPass - got[i].PPass)
			worst = math.Max(worst, d)
			if d > 5e-3 || math.IsNaN(got[i].PPass) {
				t.Errorf("%s #%d: P(pass) %.5f on %s, %.5f on go", id, i, got[i].PPass, spec, want[i].PPass)
			}
		}
		// The order may differ only between candidates whose Go scores
		// are within the tolerance.
		rank := func(p []Prediction) []int {
			idx := make([]int, len(p))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]].Score > p[idx[b]].Score })
			return idx
		}
		rg, rw := rank(got), rank(want)
		for k := range rw {
			if rg[k] != rw[k] && math.Abs(want[rg[k]].Score-want[rw[k]].Score) > 1e-2 {
				t.Errorf("%s: place %d is candidate %d on %s, %d on go (go scores %.4f, %.4f)", id, k+1, rg[k], spec, rw[k], want[rg[k]].Score, want[rw[k]].Score)
			}
		}
	}
	t.Logf("largest P(pass) difference %s vs go: %.2g", spec, worst)
}
