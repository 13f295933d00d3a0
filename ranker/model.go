package ranker

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
)

// Inputs of one group: a problem and G of its candidates (padded; Valid
// marks the real ones). Token ids are int32, masks float32.
type Inputs struct {
	Cand, CandMask *Node // [G, CandLen]
	Prob, ProbMask *Node // [1, ProbLen]
	Feats          *Node // [G, NumFeatures]
	Valid          *Node // [G]
}

// Outputs are the heads' logits, CodeRanker-style.
type Outputs struct {
	Pass    *Node // [G]: logit of P(pass); the ranking score
	Ternary *Node // [G, 3]: pass / intent error / execution error
	Intent  *Node // [G, len(IntentClasses)]
	Exec    *Node // [G, len(ExecClasses)]
	Line    *Node // [G, CandLen]: which token lies on the failing line
}

// Forward builds the model: one encoder shared by problem and candidates
// (late fusion: the problem is encoded once per group, each candidate
// alone), then a set-aware head that sees, for each candidate, the problem,
// its own encoding, its similarity to its siblings' encodings and the
// lexical set features computed in Go.
func Forward(ctx *context.Context, cfg Config, in Inputs) Outputs {
	ctx = ctx.WithInitializer(initializers.XavierUniformFn(ctx))
	candH := encode(ctx.In("encoder"), cfg, in.Cand, in.CandMask, 1)
	probH := encode(ctx.In("encoder").Reuse(), cfg, in.Prob, in.ProbMask, 0)
	c := meanOver(candH, in.CandMask) // [G, d]
	p := meanOver(probH, in.ProbMask) // [1, d]
	p = BroadcastToDims(p, c.Shape().Dimensions...)

	// Neural consensus: cosine similarity of each candidate's encoding to
	// the mean encoding of its (valid) siblings.
	valid := ExpandAxes(in.Valid, -1) // [G,1]
	cn := Div(c, Sqrt(AddScalar(ReduceAndKeep(Square(c), ReduceSum, -1), 1e-6)))
	cn = Mul(cn, valid)
	sum := ReduceAndKeep(cn, ReduceSum, 0)                                   // [1,d]
	others := Sub(sum, cn)                                                   // [G,d]
	nOthers := MaxScalar(SubScalar(ReduceAllSum(in.Valid), 1), 1)            // scalar
	consensus := Div(ReduceAndKeep(Mul(cn, others), ReduceSum, -1), nOthers) // [G,1]

	x := Concatenate([]*Node{c, Mul(c, p), in.Feats, consensus}, -1)
	h := activations.Gelu(dense(ctx.In("head_hidden"), x, cfg.HeadDim))
	h = layers.LayerNormalization(ctx.In("head_norm"), h, -1).Done()
	out := Outputs{
		// The set and static features also reach the score directly (a
		// linear skip), so the consensus signal is there from step one.
		Pass:    Squeeze(Add(dense(ctx.In("head_pass"), h, 1), dense(ctx.In("head_skip"), in.Feats, 1)), -1),
		Ternary: dense(ctx.In("head_ternary"), h, 3),
		Intent:  dense(ctx.In("head_intent"), h, len(IntentClasses)),
		Exec:    dense(ctx.In("head_exec"), h, len(ExecClasses)),
	}
	// Error line: a per-token logit from the token's encoding and the
	// candidate's head state.
	lineQ := dense(ctx.In("head_line"), h, cfg.Dim) // [G, d]
	out.Line = MulScalar(dot(candH, []int{2}, []int{0}, lineQ, []int{1}, []int{0}), 1/math.Sqrt(float64(cfg.Dim)))
	return out
}

// encode is a pre-LN transformer encoder over tokens [B, L]; it returns the
// final hidden states [B, L, d].
func encode(ctx *context.Context, cfg Config, tokens, mask *Node, segment int) *Node {
	g := tokens.Graph()
	B, L := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	d := cfg.Dim
	emb := ctx.In("tokens").VariableWithShape("embeddings", shapes.Make(dtypes.Float32, cfg.Vocab, d)).ValueGraph(g)
	x := Gather(emb, ExpandAxes(tokens, -1)) // [B, L, d]
	pos := ctx.In("positions").VariableWithShape("embeddings", shapes.Make(dtypes.Float32, cfg.MaxLen(), d)).ValueGraph(g)
	pos = Gather(pos, Iota(g, shapes.Make(dtypes.Int32, L, 1), 0)) // [L, d]; Gather, not Slice: Slice's gradient (Pad) is missing on the Go backend
	seg := ctx.In("segments").VariableWithShape("embeddings", shapes.Make(dtypes.Float32, 2, d)).ValueGraph(g)
	seg = Gather(seg, Const(g, [][]int32{{int32(segment)}})) // [1, d]
	x = Add(x, ExpandAxes(Add(pos, seg), 0))
	x = layers.LayerNormalization(ctx.In("embed_norm"), x, -1).Done()

	// Additive attention mask: 0 for real keys, -1e9 for padding.
	keyBias := MulScalar(OneMinus(mask), -1e9)      // [B, L]
	keyBias = ExpandAxes(ExpandAxes(keyBias, 1), 1) // [B,1,1,L]
	nh := cfg.Heads
	dh := d / nh
	for i := 0; i < cfg.Layers; i++ {
		lctx := ctx.Inf("layer_%d", i)
		// Self-attention.
		a := layers.LayerNormalization(lctx.In("attn_norm"), x, -1).Done()
		q := Reshape(dense(lctx.In("q"), a, d), B, L, nh, dh)
		k := Reshape(dense(lctx.In("k"), a, d), B, L, nh, dh)
		v := Reshape(dense(lctx.In("v"), a, d), B, L, nh, dh)
		// scores[b,h,q,k] = Σ_e q[b,q,h,e]·k[b,k,h,e] / √dh  (scaled once)
		scores := dot(q, []int{3}, []int{0, 2}, k, []int{3}, []int{0, 2}) // [B, nh, L, L]
		scores = Add(MulScalar(scores, 1/math.Sqrt(float64(dh))), keyBias)
		att := Softmax(scores, -1)
		// ctx[b,h,q,e] = Σ_k att[b,h,q,k]·v[b,k,h,e]
		o := dot(att, []int{3}, []int{0, 1}, v, []int{1}, []int{0, 2}) // [B, nh, L, dh]
		o = Reshape(TransposeAllAxes(o, 0, 2, 1, 3), B, L, d)
		x = Add(x, dense(lctx.In("attn_out"), o, d))
		// Feed-forward.
		f := layers.LayerNormalization(lctx.In("ffn_norm"), x, -1).Done()
		f = activations.Gelu(dense(lctx.In("ffn_in"), f, cfg.FFN))
		x = Add(x, dense(lctx.In("ffn_out"), f, d))
	}
	return layers.LayerNormalization(ctx.In("final_norm"), x, -1).Done()
}

// dense is x·W + b over x's last axis, built with dot so its gradient is cheap.
func dense(ctx *context.Context, x *Node, out int) *Node {
	g := x.Graph()
	in := x.Shape().Dimensions[x.Rank()-1]
	w := ctx.VariableWithShape("weights", shapes.Make(dtypes.Float32, in, out)).ValueGraph(g)
	b := ctx.WithInitializer(initializers.Zero).VariableWithShape("biases", shapes.Make(dtypes.Float32, out)).ValueGraph(g)
	y := dot(x, []int{x.Rank() - 1}, nil, w, []int{0}, nil)
	return Add(y, ExpandLeftToRank(b, y.Rank()))
}

// meanOver averages h [B, L, d] over the positions where mask [B, L] is 1.
func meanOver(h, mask *Node) *Node {
	m := ExpandAxes(mask, -1)
	return Div(ReduceSum(Mul(h, m), 1), MaxScalar(ReduceSum(m, 1), 1))
}
