package ranker

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// The inference path in plain Go. Scoring on a CPU without XLA went
// through GoMLX's pure-Go backend, which runs our shapes at ~2 GFLOP/s and
// pads every candidate to CandLen tokens and every group to a bucket of
// 16. This is the same function as Forward over the same weights (tested
// equal to it), computed per candidate over its real tokens only — masked
// keys get an exact zero weight in Forward's softmax, so leaving them out
// changes nothing — with register-blocked matrix products, and the
// candidates spread over the CPUs. Training and the XLA backends keep
// using the graph.

// netLayer is one encoder layer's weights; matrices are stored transposed
// ([out, in], row-major) so that the kernels read both operands along k.
type netLayer struct {
	attnNorm, ffnNorm  lnWeights
	q, k, v, out       denseWeights
	ffnIn, ffnOut      denseWeights
	heads, headDim, dm int
}

type lnWeights struct{ gain, offset []float32 }

type denseWeights struct {
	wt      []float32 // [out, in]
	b       []float32 // [out]
	in, out int
}

// goNet is the model's weights, copied out of the GoMLX context, ready
// for the Go inference path.
type goNet struct {
	cfg                  Config
	tok, pos, seg        []float32 // [vocab, d], [maxLen, d], [2, d]
	embedNorm, finalNorm lnWeights
	layers               []netLayer
	headHidden, headPass *denseWeights
	headSkip, headTern   *denseWeights
	headIntent, headExec *denseWeights
	headLine             *denseWeights
	headNorm             lnWeights
	// from are the tensors the weights were copied from: when training
	// replaces one, the copy is made again.
	from map[string]*tensors.Tensor
}

const lnEpsilon = 1e-3 // GoMLX's layer-normalization default, as Forward uses it

// newGoNet copies ctx's model variables.
func newGoNet(ctx *context.Context, cfg Config) (*goNet, error) {
	vars := map[string]*tensors.Tensor{}
	for v := range ctx.IterVariables() {
		if isOptimizerVar(v.Scope()) {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return nil, err
		}
		vars[v.Scope()+"/"+v.Name()] = t
	}
	var err error
	get := func(name string, size int) []float32 {
		t, ok := vars[name]
		if !ok {
			if err == nil {
				err = fmt.Errorf("ranker: the weights have no %s", name)
			}
			return make([]float32, size)
		}
		d := tensors.MustCopyFlatData[float32](t)
		if len(d) != size && err == nil {
			err = fmt.Errorf("ranker: %s has %d values, want %d", name, len(d), size)
		}
		if len(d) < size {
			d = append(d, make([]float32, size-len(d))...)
		}
		return d
	}
	dense := func(scope string, in, out int) *denseWeights {
		w := get(scope+"/weights", in*out)
		wt := make([]float32, in*out)
		for i := range in {
			for o := range out {
				wt[o*in+i] = w[i*out+o]
			}
		}
		return &denseWeights{wt: wt, b: get(scope+"/biases", out), in: in, out: out}
	}
	ln := func(scope string, d int) lnWeights {
		return lnWeights{gain: get(scope+"/layer_normalization/gain", d), offset: get(scope+"/layer_normalization/offset", d)}
	}
	d := cfg.Dim
	n := &goNet{cfg: cfg, from: vars,
		tok:       get("/encoder/tokens/embeddings", cfg.Vocab*d),
		pos:       get("/encoder/positions/embeddings", cfg.MaxLen()*d),
		seg:       get("/encoder/segments/embeddings", 2*d),
		embedNorm: ln("/encoder/embed_norm", d),
		finalNorm: ln("/encoder/final_norm", d),
	}
	for i := range cfg.Layers {
		s := fmt.Sprintf("/encoder/layer_%d", i)
		n.layers = append(n.layers, netLayer{
			attnNorm: ln(s+"/attn_norm", d), ffnNorm: ln(s+"/ffn_norm", d),
			q: *dense(s+"/q", d, d), k: *dense(s+"/k", d, d), v: *dense(s+"/v", d, d), out: *dense(s+"/attn_out", d, d),
			ffnIn: *dense(s+"/ffn_in", d, cfg.FFN), ffnOut: *dense(s+"/ffn_out", cfg.FFN, d),
			heads: cfg.Heads, headDim: d / cfg.Heads, dm: d,
		})
	}
	n.headHidden = dense("/head_hidden", cfg.headInputs(), cfg.HeadDim)
	n.headNorm = ln("/head_norm", cfg.HeadDim)
	n.headPass = dense("/head_pass", cfg.HeadDim, 1)
	n.headSkip = dense("/head_skip", NumFeatures, 1)
	n.headTern = dense("/head_ternary", cfg.HeadDim, 3)
	n.headIntent = dense("/head_intent", cfg.HeadDim, len(IntentClasses))
	n.headExec = dense("/head_exec", cfg.HeadDim, len(ExecClasses))
	n.headLine = dense("/head_line", cfg.HeadDim, d)
	return n, err
}

// current says whether the copy still holds ctx's weights.
func (n *goNet) current(ctx *context.Context) bool {
	seen := 0
	for v := range ctx.IterVariables() {
		if isOptimizerVar(v.Scope()) {
			continue
		}
		t, err := v.Value()
		if err != nil || n.from[v.Scope()+"/"+v.Name()] != t {
			return false
		}
		seen++
	}
	return seen == len(n.from)
}

// netOutputs are Forward's outputs for the n real candidates; line holds
// each candidate's per-token logits over its real tokens.
type netOutputs struct {
	pass         []float32   // [n]
	tern         []float32   // [n, 3]
	intent, exec []float32   // [n, classes]
	line         [][]float32 // [n][tokens]
}

// add adds o's logits to n's, element by element.
func (n *netOutputs) add(o *netOutputs) {
	for _, p := range [][2][]float32{{n.pass, o.pass}, {n.tern, o.tern}, {n.intent, o.intent}, {n.exec, o.exec}} {
		for i, v := range p[1] {
			p[0][i] += v
		}
	}
	for i, l := range o.line {
		for j, v := range l {
			n.line[i][j] += v
		}
	}
}

// scale multiplies every logit by s.
func (n *netOutputs) scale(s float32) {
	for _, p := range append([][]float32{n.pass, n.tern, n.intent, n.exec}, n.line...) {
		for i := range p {
			p[i] *= s
		}
	}
}

// forward computes Forward's outputs for g's candidates.
func (n *goNet) forward(g *Group) *netOutputs {
	cfg := n.cfg
	d := cfg.Dim
	nc := len(g.Cands)
	out := &netOutputs{pass: make([]float32, nc), tern: make([]float32, nc*3), intent: make([]float32, nc*len(IntentClasses)),
		exec: make([]float32, nc*len(ExecClasses)), line: make([][]float32, nc)}
	// The problem once, then the candidates spread over the CPUs; each
	// keeps its final hidden states for the line head.
	var s scratch
	prob := pooled(n.encode(&s, g.Prob, 0), d)
	hidden := make([][]float32, nc)
	pooledC := make([]float32, nc*d)
	workers := min(runtime.GOMAXPROCS(0), nc)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s scratch
			for i := w; i < nc; i += workers {
				h := n.encode(&s, g.Cands[i], 1)
				hidden[i] = append([]float32(nil), h...)
				copy(pooledC[i*d:], pooled(h, d))
			}
		}()
	}
	wg.Wait()

	// Neural consensus: cosine of each candidate's encoding to the sum
	// of its siblings', over the siblings.
	cn := make([]float32, nc*d)
	sum := make([]float32, d)
	for i := range nc {
		c := pooledC[i*d : (i+1)*d]
		var sq float32
		for _, x := range c {
			sq += x * x
		}
		inv := 1 / float32(math.Sqrt(float64(sq+1e-6)))
		for j, x := range c {
			cn[i*d+j] = x * inv
			sum[j] += x * inv
		}
	}
	nOthers := float32(max(nc-1, 1))
	feats := cfg.headInputs()
	x := make([]float32, nc*feats)
	for i := range nc {
		row := x[i*feats : (i+1)*feats]
		c := pooledC[i*d : (i+1)*d]
		copy(row, c)
		for j := range d {
			row[d+j] = c[j] * prob[j]
		}
		copy(row[2*d:], g.Feats[i])
		var cons float32
		for j := range d {
			cons += cn[i*d+j] * (sum[j] - cn[i*d+j])
		}
		row[2*d+NumFeatures] = cons / nOthers
	}
	h := make([]float32, nc*cfg.HeadDim)
	matmul(x, nc, n.headHidden, h)
	gelu(h)
	layerNorm(h, nc, n.headNorm)
	pass := make([]float32, nc)
	skip := make([]float32, nc)
	matmul(h, nc, n.headPass, pass)
	featsOnly := make([]float32, nc*NumFeatures)
	for i := range nc {
		copy(featsOnly[i*NumFeatures:], g.Feats[i])
	}
	matmul(featsOnly, nc, n.headSkip, skip)
	for i := range pass {
		out.pass[i] = pass[i] + skip[i]
	}
	matmul(h, nc, n.headTern, out.tern)
	matmul(h, nc, n.headIntent, out.intent)
	matmul(h, nc, n.headExec, out.exec)
	q := make([]float32, nc*d)
	matmul(h, nc, n.headLine, q)
	scale := float32(1 / math.Sqrt(float64(d)))
	for i := range nc {
		L := len(hidden[i]) / d
		out.line[i] = make([]float32, L)
		qi := q[i*d : (i+1)*d]
		for t := range L {
			out.line[i][t] = dotF(hidden[i][t*d:(t+1)*d], qi) * scale
		}
	}
	return out
}

// headInputs is the width of the head's input: the candidate, its
// product with the problem, the set features, the neural consensus.
func (c Config) headInputs() int { return 2*c.Dim + NumFeatures + 1 }

// scratch is one worker's buffers, grown as needed.
type scratch struct {
	x, a, q, k, v, o, f, att []float32
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// encode runs the encoder over ids (one pad token when empty, as Batch
// does) in segment seg and returns the final hidden states [L, d], in
// s's buffer.
func (n *goNet) encode(s *scratch, ids []int32, seg int) []float32 {
	if len(ids) == 0 {
		ids = []int32{0}
	}
	d := n.cfg.Dim
	L := len(ids)
	s.x = grow(s.x, L*d)
	x := s.x
	segE := n.seg[seg*d : (seg+1)*d]
	for t, id := range ids {
		e := n.tok[int(id)*d : (int(id)+1)*d]
		p := n.pos[t*d : (t+1)*d]
		row := x[t*d : (t+1)*d]
		for j := range row {
			row[j] = e[j] + (p[j] + segE[j])
		}
	}
	layerNorm(x, L, n.embedNorm)
	for li := range n.layers {
		l := &n.layers[li]
		s.a = grow(s.a, L*d)
		copy(s.a, x)
		layerNorm(s.a, L, l.attnNorm)
		s.q, s.k, s.v = grow(s.q, L*d), grow(s.k, L*d), grow(s.v, L*d)
		matmul(s.a, L, &l.q, s.q)
		matmul(s.a, L, &l.k, s.k)
		matmul(s.a, L, &l.v, s.v)
		s.o = grow(s.o, L*d)
		s.att = grow(s.att, L)
		attention(s.q, s.k, s.v, s.o, s.att, L, l.heads, l.headDim)
		matmul(s.o, L, &l.out, s.a) // s.a is free again
		addInto(x, s.a)
		copy(s.a, x)
		layerNorm(s.a, L, l.ffnNorm)
		s.f = grow(s.f, L*l.ffnIn.out)
		matmul(s.a, L, &l.ffnIn, s.f)
		gelu(s.f)
		matmul(s.f, L, &l.ffnOut, s.a)
		addInto(x, s.a)
	}
	layerNorm(x, L, n.finalNorm)
	return x
}

// attention is multi-head self-attention over L real tokens: q, k, v and
// o are [L, heads·dh]; att is a row of scratch.
func attention(q, k, v, o, att []float32, L, heads, dh int) {
	d := heads * dh
	scale := float32(1 / math.Sqrt(float64(dh)))
	for h := range heads {
		off := h * dh
		for t := range L {
			qt := q[t*d+off : t*d+off+dh]
			mx := float32(math.Inf(-1))
			for u := range L {
				s := dotF(qt, k[u*d+off:u*d+off+dh]) * scale
				att[u] = s
				mx = max(mx, s)
			}
			var sum float32
			for u := range L {
				e := float32(math.Exp(float64(att[u] - mx)))
				att[u] = e
				sum += e
			}
			ot := o[t*d+off : t*d+off+dh]
			clear(ot)
			inv := 1 / sum
			for u := range L {
				w := att[u] * inv
				vu := v[u*d+off : u*d+off+dh]
				for e := range ot {
					ot[e] += w * vu[e]
				}
			}
		}
	}
}

func dotF(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func addInto(x, y []float32) {
	y = y[:len(x)]
	for i := range x {
		x[i] += y[i]
	}
}

// matmul is y[n, out] = x[n, in] · W + b, with W stored transposed: a
// 4×4 register block (four rows of x against four columns of W, both
// read along k) over the bulk, plain dot products at the edges.
func matmul(x []float32, n int, w *denseWeights, y []float32) {
	in, out := w.in, w.out
	x, y = x[:n*in], y[:n*out]
	i := 0
	for ; i+4 <= n; i += 4 {
		x0, x1, x2, x3 := x[i*in:(i+1)*in], x[(i+1)*in:(i+2)*in], x[(i+2)*in:(i+3)*in], x[(i+3)*in:(i+4)*in]
		j := 0
		for ; j+4 <= out; j += 4 {
			w0, w1, w2, w3 := w.wt[j*in:(j+1)*in], w.wt[(j+1)*in:(j+2)*in], w.wt[(j+2)*in:(j+3)*in], w.wt[(j+3)*in:(j+4)*in]
			var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
			for k := range x0 {
				a0, a1, a2, a3 := x0[k], x1[k], x2[k], x3[k]
				b0, b1, b2, b3 := w0[k], w1[k], w2[k], w3[k]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
				c20 += a2 * b0
				c21 += a2 * b1
				c22 += a2 * b2
				c23 += a2 * b3
				c30 += a3 * b0
				c31 += a3 * b1
				c32 += a3 * b2
				c33 += a3 * b3
			}
			b := w.b[j : j+4]
			y0, y1, y2, y3 := y[i*out+j:i*out+j+4], y[(i+1)*out+j:(i+1)*out+j+4], y[(i+2)*out+j:(i+2)*out+j+4], y[(i+3)*out+j:(i+3)*out+j+4]
			y0[0], y0[1], y0[2], y0[3] = c00+b[0], c01+b[1], c02+b[2], c03+b[3]
			y1[0], y1[1], y1[2], y1[3] = c10+b[0], c11+b[1], c12+b[2], c13+b[3]
			y2[0], y2[1], y2[2], y2[3] = c20+b[0], c21+b[1], c22+b[2], c23+b[3]
			y3[0], y3[1], y3[2], y3[3] = c30+b[0], c31+b[1], c32+b[2], c33+b[3]
		}
		for ; j < out; j++ {
			wj := w.wt[j*in : (j+1)*in]
			for r, xr := range [][]float32{x0, x1, x2, x3} {
				y[(i+r)*out+j] = dotF(xr, wj) + w.b[j]
			}
		}
	}
	for ; i < n; i++ {
		xi := x[i*in : (i+1)*in]
		for j := range out {
			y[i*out+j] = dotF(xi, w.wt[j*in:(j+1)*in]) + w.b[j]
		}
	}
}

// layerNorm normalises each of the n rows of x in place: (x−mean) /
// √(var+ε) · gain + offset.
func layerNorm(x []float32, n int, w lnWeights) {
	d := len(w.gain)
	for r := range n {
		row := x[r*d : (r+1)*d]
		var mean float32
		for _, v := range row {
			mean += v
		}
		mean /= float32(d)
		var v2 float32
		for i, v := range row {
			row[i] = v - mean
			v2 += row[i] * row[i]
		}
		inv := 1 / float32(math.Sqrt(float64(v2/float32(d)+lnEpsilon)))
		for i := range row {
			row[i] = row[i]*inv*w.gain[i] + w.offset[i]
		}
	}
}

// gelu is the exact GELU, x·Φ(x), in place.
func gelu(x []float32) {
	for i, v := range x {
		x[i] = v * float32(0.5*(1+math.Erf(float64(v)/math.Sqrt2)))
	}
}

// pooled is the mean of the rows of h [L, d].
func pooled(h []float32, d int) []float32 {
	out := make([]float32, d)
	L := len(h) / d
	for t := range L {
		addInto(out, h[t*d:(t+1)*d])
	}
	for j := range out {
		out[j] /= float32(L)
	}
	return out
}
