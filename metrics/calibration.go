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

// FitLogistic fits P(y) = sigmoid(w·x + b) by weighted maximum likelihood
// (Newton's method; ridge l2 on w, not on b, so separable data still gives
// finite weights). weight may be nil (all 1). Every row of x has the same
// length.
func FitLogistic(x [][]float64, y []bool, weight []float64, l2 float64) (w []float64, b float64) {
	if len(x) == 0 {
		return nil, 0
	}
	d := len(x[0])
	k := d + 1 // the bias is the last coefficient
	theta := make([]float64, k)
	g := make([]float64, k)
	h := make([][]float64, k)
	for i := range h {
		h[i] = make([]float64, k)
	}
	row := make([]float64, k)
	var total float64
	for i := range x {
		total += weightOf(weight, i)
	}
	if total <= 0 {
		return make([]float64, d), 0
	}
	for range 100 {
		clear(g)
		for i := range h {
			clear(h[i])
		}
		for i, xi := range x {
			copy(row, xi)
			row[d] = 1
			z := 0.0
			for j, v := range row {
				z += theta[j] * v
			}
			p := 1 / (1 + math.Exp(-z))
			t := 0.0
			if y[i] {
				t = 1
			}
			wi := weightOf(weight, i) / total
			r, c := wi*(p-t), wi*p*(1-p)
			for j, v := range row {
				g[j] += r * v
				for l := j; l < k; l++ {
					h[j][l] += c * v * row[l]
				}
			}
		}
		for j := range k {
			for l := 0; l < j; l++ {
				h[j][l] = h[l][j]
			}
		}
		for j := range d {
			g[j] += l2 * theta[j]
			h[j][j] += l2
		}
		h[d][d] += 1e-9
		step, ok := solve(h, g)
		if !ok {
			break
		}
		moved := 0.0
		for j := range theta {
			theta[j] -= step[j]
			moved += math.Abs(step[j])
		}
		if moved < 1e-10 {
			break
		}
	}
	return theta[:d], theta[d]
}

func weightOf(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}

// solve returns a with a·x = g by Gaussian elimination with partial
// pivoting on copies; ok is false for a singular matrix.
func solve(a [][]float64, g []float64) ([]float64, bool) {
	n := len(g)
	m := make([][]float64, n)
	for i := range m {
		m[i] = append(append(make([]float64, 0, n+1), a[i]...), g[i])
	}
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < 1e-15 {
			return nil, false
		}
		m[c], m[p] = m[p], m[c]
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for j := c; j <= n; j++ {
				m[r][j] -= f * m[c][j]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := m[r][n]
		for j := r + 1; j < n; j++ {
			s -= m[r][j] * x[j]
		}
		x[r] = s / m[r][r]
	}
	return x, true
}
