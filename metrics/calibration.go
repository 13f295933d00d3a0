package metrics

import "math"

// Bin is one bin of a reliability diagram: the predictions in [Lo, Hi),
// their mean predicted probability and the fraction that passed.
type Bin struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	N     int     `json:"n"`
	MeanP float64 `json:"mean_p"`
	Frac  float64 `json:"frac"`
}

// Calibration is a reliability diagram with its expected calibration
// error: the mean, weighted by bin size, of |mean predicted - fraction
// passed| over equal-width bins (Naeini et al., 2015; Guo et al., 2017).
type Calibration struct {
	Bins []Bin   `json:"bins"`
	ECE  float64 `json:"ece"`
	N    int     `json:"n"`
}

// Calibrate bins predicted probabilities p (clamped to [0, 1]) against
// outcomes passed into nbins equal-width bins. Bins without predictions
// are kept (N 0) so that diagrams line up.
func Calibrate(p []float64, passed []bool, nbins int) *Calibration {
	c := &Calibration{Bins: make([]Bin, nbins), N: len(p)}
	for i := range c.Bins {
		c.Bins[i].Lo, c.Bins[i].Hi = float64(i)/float64(nbins), float64(i+1)/float64(nbins)
	}
	for i, x := range p {
		x = math.Min(1, math.Max(0, x))
		b := min(int(x*float64(nbins)), nbins-1)
		c.Bins[b].N++
		c.Bins[b].MeanP += x
		if passed[i] {
			c.Bins[b].Frac++
		}
	}
	for i := range c.Bins {
		b := &c.Bins[i]
		if b.N == 0 {
			continue
		}
		b.MeanP /= float64(b.N)
		b.Frac /= float64(b.N)
		c.ECE += float64(b.N) / float64(max(1, c.N)) * math.Abs(b.MeanP-b.Frac)
	}
	return c
}

// FitPlatt fits P(pass) = sigmoid(a·x + b) to outcomes by maximum
// likelihood (Newton's method on the two parameters, a little ridge).
func FitPlatt(x []float64, y []bool) (a, b float64) {
	a, b = 1, 0
	if len(x) == 0 {
		return a, b
	}
	for range 50 {
		var ga, gb, haa, hab, hbb float64
		for i, v := range x {
			p := 1 / (1 + math.Exp(-(a*v + b)))
			t := 0.0
			if y[i] {
				t = 1
			}
			ga += (p - t) * v
			gb += p - t
			w := p * (1 - p)
			haa += w * v * v
			hab += w * v
			hbb += w
		}
		ga, haa, hbb = ga+1e-3*(a-1), haa+1e-3, hbb+1e-3
		det := haa*hbb - hab*hab
		if math.Abs(det) < 1e-12 {
			break
		}
		da, db := (hbb*ga-hab*gb)/det, (haa*gb-hab*ga)/det
		a, b = a-da, b-db
		if math.Abs(da)+math.Abs(db) < 1e-9 {
			break
		}
	}
	return a, b
}
