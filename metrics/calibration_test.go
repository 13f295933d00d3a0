package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestCalibrate(t *testing.T) {
	// Perfectly calibrated: in the 0.2 bin, 1 of 5 passes; in the 0.8 bin 4 of 5.
	p := []float64{0.2, 0.2, 0.2, 0.2, 0.2, 0.8, 0.8, 0.8, 0.8, 0.8}
	passed := []bool{true, false, false, false, false, true, true, true, true, false}
	c := Calibrate(p, passed, 10)
	if c.N != 10 || len(c.Bins) != 10 || c.ECE > 1e-9 {
		t.Fatalf("calibrated predictions: %+v", c)
	}
	if b := c.Bins[8]; b.N != 5 || math.Abs(b.Frac-0.8) > 1e-9 || math.Abs(b.MeanP-0.8) > 1e-9 {
		t.Fatalf("bin 0.8: %+v", b)
	}
	// Overconfident: says 0.9, half pass: ECE 0.4. 1.0 and values past it
	// land in the last bin.
	c = Calibrate([]float64{0.9, 0.9, 1.0, 1.7}, []bool{true, false, true, false}, 10)
	if math.Abs(c.ECE-(0.5*0.4+0.5*0.5)) > 1e-9 || c.Bins[9].N != 4 {
		t.Fatalf("overconfident: ECE %v bins %+v", c.ECE, c.Bins[9])
	}
	if c := Calibrate(nil, nil, 5); c.ECE != 0 || len(c.Bins) != 5 {
		t.Fatalf("empty: %+v", c)
	}
}

func TestFitPlatt(t *testing.T) {
	// Outcomes drawn as sigmoid(2x - 1): the fit finds about a 2, b -1.
	var x []float64
	var y []bool
	for i := range 4000 {
		v := float64(i%200)/40 - 2.5
		p := 1 / (1 + math.Exp(-(2*v - 1)))
		x = append(x, v)
		y = append(y, float64((i*7919)%1000)/1000 < p)
	}
	a, b := FitPlatt(x, y)
	if math.Abs(a-2) > 0.3 || math.Abs(b+1) > 0.3 {
		t.Fatalf("a %v b %v", a, b)
	}
}

func TestFitLogistic(t *testing.T) {
	// Outcomes drawn as sigmoid(1.5·u - 2·v + 0.5); a third feature is noise.
	var x [][]float64
	var y []bool
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		u, v, n := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		p := 1 / (1 + math.Exp(-(1.5*u - 2*v + 0.5)))
		x = append(x, []float64{u, v, n})
		y = append(y, rng.Float64() < p)
	}
	w, b := FitLogistic(x, y, nil, 1e-6)
	want := []float64{1.5, -2, 0}
	for j := range want {
		if math.Abs(w[j]-want[j]) > 0.12 {
			t.Fatalf("w %v b %v, want %v, 0.5", w, b, want)
		}
	}
	if math.Abs(b-0.5) > 0.1 {
		t.Fatalf("b %v, want 0.5", b)
	}
	// Weights: the same rows, the positives counted twice as much, move
	// only the bias (by log 2).
	wt := make([]float64, len(y))
	for i, p := range y {
		wt[i] = 1
		if p {
			wt[i] = 2
		}
	}
	w2, b2 := FitLogistic(x, y, wt, 1e-6)
	if math.Abs(b2-b-math.Ln2) > 0.05 || math.Abs(w2[0]-w[0]) > 0.05 {
		t.Fatalf("weighted: w %v b %v, unweighted w %v b %v", w2, b2, w, b)
	}
}

func TestFitLogisticSeparable(t *testing.T) {
	// Perfectly separable data: the ridge keeps the weight finite, and the
	// fit still orders the two classes.
	x := [][]float64{{-2}, {-1}, {1}, {2}}
	y := []bool{false, false, true, true}
	w, b := FitLogistic(x, y, nil, 1e-2)
	if math.IsNaN(w[0]) || math.IsInf(w[0], 0) || w[0] <= 0 || math.Abs(b) > 1e-6 {
		t.Fatalf("w %v b %v", w, b)
	}
}
