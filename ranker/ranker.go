package ranker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Files of a model directory.
const (
	ConfigFile    = "config.json"
	TokenizerFile = "tokenizer.json"
	WeightsFile   = "weights.bin.zst"
)

// NewBackend opens a GoMLX backend: "go" (pure Go, the default) or, in a
// binary built with -tags xla, "xla:cuda" / "xla:cpu". The Go backend runs
// its ops one after another (go:ops_sequential): with parallel op
// scheduling GoMLX v0.26.0 deadlocked in training steps.
func NewBackend(spec string) (backends.Backend, error) {
	switch spec {
	case "", "go":
		spec = "go:ops_sequential"
	}
	var b backends.Backend
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("backend %q: %v", spec, r)
			}
		}()
		b, err = backends.NewWithConfig(spec)
	}()
	return b, err
}

// Model is a tokenizer, a config and the weights, ready to score.
type Model struct {
	Config  Config
	Tok     *Tokenizer
	Ctx     *context.Context
	Backend backends.Backend

	// members are further weights of the same architecture and
	// tokenizer, trained from other seeds: Predict averages the heads'
	// logits over the model and its members (see Ensemble).
	members []*Model

	mu    sync.Mutex
	infer *context.Exec
	net   *goNet
}

// New makes a model with fresh (random) weights.
func New(backend backends.Backend, cfg Config, tok *Tokenizer) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tok.VocabSize() > cfg.Vocab {
		return nil, fmt.Errorf("ranker: tokenizer has %d tokens, config allows %d", tok.VocabSize(), cfg.Vocab)
	}
	installDotGradient()
	ctx := context.New()
	ctx.SetParam("seed", int64(1))
	ctx.SetRNGStateFromSeed(1)
	return &Model{Config: cfg, Tok: tok, Ctx: ctx, Backend: backend}, nil
}

// Load reads a model directory written by Save: config, tokenizer,
// weights, and the weights of an ensemble's further members
// (MemberFile(1), MemberFile(2), … while they exist).
func Load(backend backends.Backend, dir string) (*Model, error) {
	cb, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	tb, err := os.ReadFile(filepath.Join(dir, TokenizerFile))
	if err != nil {
		return nil, err
	}
	wb, err := os.ReadFile(filepath.Join(dir, WeightsFile))
	if err != nil {
		return nil, err
	}
	var members [][]byte
	for i := 1; ; i++ {
		b, err := os.ReadFile(filepath.Join(dir, MemberFile(i)))
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, err
		}
		members = append(members, b)
	}
	return FromBytes(backend, cb, tb, wb, members...)
}

// MemberFile is the weights file of an ensemble's i-th further member
// (i ≥ 1; the first model's are WeightsFile).
func MemberFile(i int) string { return fmt.Sprintf("weights-%d.bin.zst", i) }

// Ensemble makes one model of several trained with the same config and
// tokenizer (from other seeds): its predictions average their heads'
// logits. Averaging cuts the seed-to-seed spread of the rankings
// (docs/ranker.md): one seed's model is one draw.
func Ensemble(models ...*Model) (*Model, error) {
	if len(models) == 0 {
		return nil, errors.New("ranker: an ensemble of no models")
	}
	first := models[0]
	tok, err := json.Marshal(first.Tok)
	if err != nil {
		return nil, err
	}
	e := &Model{Config: first.Config, Tok: first.Tok, Ctx: first.Ctx, Backend: first.Backend}
	e.members = append(e.members, first.members...)
	for i, m := range models[1:] {
		other, err := json.Marshal(m.Tok)
		if err != nil {
			return nil, err
		}
		if !sameArch(m.Config, first.Config) || !bytes.Equal(tok, other) {
			return nil, fmt.Errorf("ranker: ensemble member %d has another config or tokenizer than the first", i+2)
		}
		e.members = append(e.members, &Model{Config: m.Config, Tok: first.Tok, Ctx: m.Ctx, Backend: first.Backend})
		e.members = append(e.members, m.members...)
	}
	return e, nil
}

// Members is how many models the predictions average (1: one model).
func (m *Model) Members() int { return 1 + len(m.members) }

// sameArch: the two configs describe the same network.
func sameArch(a, b Config) bool {
	a.Calibration, b.Calibration = nil, nil
	a.ConsensusBeta, b.ConsensusBeta = nil, nil
	return reflect.DeepEqual(a, b)
}

// FromBytes builds a model from the files' contents: config, tokenizer,
// weights, and the weights of an ensemble's further members.
func FromBytes(backend backends.Backend, config, tokenizer, weights []byte, members ...[]byte) (*Model, error) {
	var cfg Config
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, fmt.Errorf("ranker config: %w", err)
	}
	tok, err := ParseTokenizer(tokenizer)
	if err != nil {
		return nil, err
	}
	m, err := New(backend, cfg, tok)
	if err != nil {
		return nil, err
	}
	if err := DecodeWeights(m.Ctx, weights); err != nil {
		return nil, err
	}
	for i, w := range members {
		mm, err := New(backend, cfg, tok)
		if err != nil {
			return nil, err
		}
		if err := DecodeWeights(mm.Ctx, w); err != nil {
			return nil, fmt.Errorf("ensemble member %d: %w", i+1, err)
		}
		m.members = append(m.members, mm)
	}
	return m, nil
}

// Save writes the model to dir (created if needed). withOptimizer keeps
// the optimizer's state, for resuming training.
func (m *Model) Save(dir string, withOptimizer bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cb, _ := json.MarshalIndent(m.Config, "", "  ")
	if err := writeFileAtomic(filepath.Join(dir, ConfigFile), cb); err != nil {
		return err
	}
	if err := m.Tok.Save(filepath.Join(dir, TokenizerFile)); err != nil {
		return err
	}
	wb, err := EncodeWeights(m.Ctx, withOptimizer)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, WeightsFile), wb); err != nil {
		return err
	}
	for i := 1; ; i++ { // no stale member of an earlier ensemble
		path := filepath.Join(dir, MemberFile(i+len(m.members)))
		if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
			break
		} else if err != nil {
			return err
		}
	}
	for i, mm := range m.members {
		wb, err := EncodeWeights(mm.Ctx, false)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, MemberFile(i+1)), wb); err != nil {
			return err
		}
	}
	return nil
}

// Group is one problem and its candidates, tokenised, with set features.
type Group struct {
	Prob  []int32
	Cands [][]int32
	Lines [][]int32 // each candidate token's 1-based line
	Feats [][]float32
}

// Encode tokenises a problem's text and its candidates' code; statics
// (from package static; nil if unknown) add what compiling them told.
func (m *Model) Encode(problemText string, codes []string, statics []Static) *Group {
	g := &Group{Prob: problemTokens(m.Tok, problemText, m.Config.ProbLen)}
	for _, c := range codes {
		ids, lines := candidateTokens(m.Tok, c, m.Config.CandLen)
		g.Cands = append(g.Cands, ids)
		g.Lines = append(g.Lines, lines)
	}
	g.Feats = SetFeatures(m.Tok, codes, statics, m.Config.CandLen)
	if m.Config.GroupFeatures {
		groupNormalise(g.Feats)
	}
	return g
}

// Batch turns candidates idx of g into the model's six inputs, padded to
// size rows: cand, candMask, prob, probMask, feats, valid.
func (c Config) Batch(g *Group, idx []int, size int) []*tensors.Tensor {
	cand := make([]int32, size*c.CandLen)
	cmask := make([]float32, size*c.CandLen)
	feats := make([]float32, size*NumFeatures)
	valid := make([]float32, size)
	for r, i := range idx {
		for j, id := range g.Cands[i] {
			cand[r*c.CandLen+j] = id
			cmask[r*c.CandLen+j] = 1
		}
		if len(g.Cands[i]) == 0 { // an empty candidate still reads one (pad) token
			cmask[r*c.CandLen] = 1
		}
		copy(feats[r*NumFeatures:], g.Feats[i])
		valid[r] = 1
	}
	prob := make([]int32, c.ProbLen)
	pmask := make([]float32, c.ProbLen)
	for j, id := range g.Prob {
		prob[j] = id
		pmask[j] = 1
	}
	if len(g.Prob) == 0 {
		pmask[0] = 1
	}
	return []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(cand, size, c.CandLen),
		tensors.FromFlatDataAndDimensions(cmask, size, c.CandLen),
		tensors.FromFlatDataAndDimensions(prob, 1, c.ProbLen),
		tensors.FromFlatDataAndDimensions(pmask, 1, c.ProbLen),
		tensors.FromFlatDataAndDimensions(feats, size, NumFeatures),
		tensors.FromFlatDataAndDimensions(valid, size),
	}
}

// BucketSize pads n candidates to a multiple of 16, so a few compiled
// graphs serve every group size.
func BucketSize(n int) int { return max(16, (n+15)/16*16) }

// Prediction is the model's verdict on one candidate.
type Prediction struct {
	// Score is the ranking score: P(pass), or, when the model's config
	// sets consensus_beta, the neural logit as a residual over the plain
	// lexical consensus (see Anchor).
	Score      float64 `json:"score"`
	PPass      float64 `json:"p_pass"` // the model's P(pass)
	PIntent    float64 `json:"p_intent_error"`
	PExec      float64 `json:"p_execution_error"`
	Fault      string  `json:"fault"`      // most likely fault class if it fails
	FaultP     float64 `json:"fault_p"`    // its probability given the kind
	ErrorLine  int     `json:"error_line"` // most likely failing line (1-based)
	ErrorLineP float64 `json:"error_line_p"`
}

// ForwardOutputs lists Forward's outputs in a fixed order (for Exec).
func ForwardOutputs(o Outputs) []*Node { return []*Node{o.Pass, o.Ternary, o.Intent, o.Exec, o.Line} }

// Predict scores all candidates of g together (the set-aware head needs
// the whole set): in plain Go on the pure-Go backend (see infer.go), else
// through the graph.
func (m *Model) Predict(g *Group) ([]Prediction, error) {
	return m.predict(g, !m.GoPath())
}

// predict averages the heads' logits of the model and its members, each
// computed in plain Go or through the graph, and reads predictions off
// them.
func (m *Model) predict(g *Group, graph bool) ([]Prediction, error) {
	if len(g.Cands) == 0 {
		return nil, nil
	}
	var sum *netOutputs
	for _, mm := range append([]*Model{m}, m.members...) {
		var raw *netOutputs
		if graph {
			var err error
			if raw, err = mm.rawGraph(g, m.Backend); err != nil {
				return nil, err
			}
		} else {
			net, err := mm.goNet()
			if err != nil {
				return nil, err
			}
			raw = net.forward(g)
		}
		if sum == nil {
			sum = raw
		} else {
			sum.add(raw)
		}
	}
	if len(m.members) > 0 {
		sum.scale(1 / float32(1+len(m.members)))
	}
	return m.predictions(g, sum), nil
}

// GoPath says whether Predict takes the plain-Go inference path (on the
// pure-Go backend) rather than the graph (on XLA).
func (m *Model) GoPath() bool {
	return m.Backend == nil || m.Backend.String() == simplego.BackendName
}

// goNet returns the Go inference path's copy of the weights, made again
// when training has changed them.
func (m *Model) goNet() (*goNet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net != nil && m.net.current(m.Ctx) {
		return m.net, nil
	}
	net, err := newGoNet(m.Ctx, m.Config)
	if err != nil {
		return nil, err
	}
	m.net = net
	return net, nil
}

// PredictGraph is Predict through GoMLX's graph on the model's backend.
func (m *Model) PredictGraph(g *Group) ([]Prediction, error) { return m.predict(g, true) }

// rawGraph computes the heads' logits for g through the graph, on backend.
func (m *Model) rawGraph(g *Group, backend backends.Backend) (*netOutputs, error) {
	n := len(g.Cands)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	args := m.Config.Batch(g, idx, BucketSize(n))
	m.mu.Lock()
	if m.infer == nil {
		cfg := m.Config
		e, err := context.NewExec(backend, m.Ctx.Checked(false), func(ctx *context.Context, in []*Node) []*Node {
			out := ForwardOutputs(Forward(ctx, cfg, Inputs{in[0], in[1], in[2], in[3], in[4], in[5]}))
			ForgetDots(in[0].Graph())
			return out
		})
		if err != nil {
			m.mu.Unlock()
			return nil, err
		}
		e.SetMaxCache(32)
		m.infer = e
	}
	e := m.infer
	m.mu.Unlock()
	anyArgs := make([]any, len(args))
	for i, a := range args {
		anyArgs[i] = a
	}
	outs, err := e.Exec(anyArgs...)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, o := range outs {
			o.FinalizeAll()
		}
	}()
	raw := &netOutputs{
		pass:   tensors.MustCopyFlatData[float32](outs[0]),
		tern:   tensors.MustCopyFlatData[float32](outs[1]),
		intent: tensors.MustCopyFlatData[float32](outs[2]),
		exec:   tensors.MustCopyFlatData[float32](outs[3]),
		line:   make([][]float32, n),
	}
	line := tensors.MustCopyFlatData[float32](outs[4])
	L := m.Config.CandLen
	for i := range n {
		raw.line[i] = line[i*L : i*L+max(len(g.Cands[i]), 1)]
	}
	return raw, nil
}

// predictions turns the heads' logits into predictions.
func (m *Model) predictions(g *Group, raw *netOutputs) []Prediction {
	n := len(g.Cands)
	pass, tern, intent, exec := raw.pass, raw.tern, raw.intent, raw.exec
	preds := make([]Prediction, n)
	for i := range preds {
		p := &preds[i]
		p.Score = sigmoid(float64(pass[i]))
		p.PPass = p.Score
		if c := m.Config.Calibration; c != nil {
			p.PPass = sigmoid(c.A*float64(pass[i]) + c.B)
		}
		t := softmax(tern[i*3 : i*3+3])
		p.PIntent, p.PExec = t[1], t[2]
		var classes []string
		var probs []float64
		if p.PIntent >= p.PExec {
			classes, probs = IntentClasses, softmax(intent[i*len(IntentClasses):(i+1)*len(IntentClasses)])
		} else {
			classes, probs = ExecClasses, softmax(exec[i*len(ExecClasses):(i+1)*len(ExecClasses)])
		}
		best := 1
		for k := 2; k < len(probs); k++ {
			if probs[k] > probs[best] {
				best = k
			}
		}
		p.Fault, p.FaultP = classes[best], probs[best]
		if nt := len(g.Cands[i]); nt > 0 {
			lp := softmax(raw.line[i][:nt])
			byLine := map[int32]float64{}
			for j, q := range lp {
				byLine[g.Lines[i][j]] += q
			}
			for ln, q := range byLine {
				if q > p.ErrorLineP || q == p.ErrorLineP && int(ln) < p.ErrorLine {
					p.ErrorLine, p.ErrorLineP = int(ln), q
				}
			}
		}
	}
	return preds
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func softmax(x []float32) []float64 {
	out := make([]float64, len(x))
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for i, v := range x {
		out[i] = math.Exp(float64(v) - mx)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}
