package trainer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
	"github.com/toppass/toppass/internal/progress"
	"github.com/toppass/toppass/metrics"
	"github.com/toppass/toppass/ranker"
)

// Options configure a training run.
type Options struct {
	ModelDir        string
	Config          ranker.Config
	Loss            LossParams
	Steps           int     // optimisation steps (one group each)
	GroupSize       int     // candidates sampled per step from one problem
	LR              float64 // peak learning rate
	Warmup          int     // linear warm-up steps, then cosine decay to LR/10
	WeightDecay     float64 // AdamW decoupled weight decay
	Clip            float64 // gradient global-norm clip (0: off)
	ValEvery        int     // validate every N steps
	Patience        int     // stop after N validations without improvement (0: never)
	CheckpointEvery int     // save a resumable checkpoint every N steps
	Seed            uint64
	StopAt          int // pause (with a checkpoint) after this step, to split a run; 0: run to the end
	// NoCalibration skips fitting P(pass)'s calibration on the validation
	// problems at the end (see Calibrate).
	NoCalibration bool
	Progress      io.Writer // progress bar (nil: none)
	// Init, when set, is the model a new run starts from (fine-tuning);
	// its config and tokenizer are kept. A run that resumes from its
	// checkpoint ignores it.
	Init *ranker.Model
	// BeforeStep, when set, is called before every step (the daemon yields
	// the CPU there); an error stops the run with a checkpoint.
	BeforeStep func(ctx context.Context) error
	// ResumeOnOtherData lets a run resume from a checkpoint made on other
	// training data or options (see Fingerprint). The daemon sets it: a
	// fine-tune resumed after a restart goes on with the labels there are
	// now. Without it such a checkpoint is an error, so that a changed
	// recipe trained into an old folder cannot silently finish the old run.
	ResumeOnOtherData bool
}

// DefaultOptions are sized for two CPU cores (see docs/ranker.md).
var DefaultOptions = Options{
	Config: ranker.Presets["small"], Loss: DefaultLossParams,
	Steps: 600, GroupSize: 16, LR: 1e-3, Warmup: 100, WeightDecay: 0.01, Clip: 1.0,
	ValEvery: 150, Patience: 3, CheckpointEvery: 100, Seed: 1,
}

// State is the trainer's own resumable state (checkpoint/state.json).
type State struct {
	Step      int     `json:"step"`
	BestVal   float64 `json:"best_val"`
	BestStep  int     `json:"best_step"`
	BadEvals  int     `json:"bad_evals"`
	Stopped   bool    `json:"stopped"`
	ElapsedS  float64 `json:"elapsed_s"`
	LossEMA   float64 `json:"loss_ema"`
	TrainRows int     `json:"train_rows"`
	// Data is the Fingerprint of the run's data and options.
	Data string `json:"data,omitempty"`
}

// Metric is one line of metrics.jsonl.
type Metric struct {
	Step    int      `json:"step"`
	Loss    float64  `json:"loss"`
	LR      float64  `json:"lr"`
	ValPass *float64 `json:"val_pass_at_1,omitempty"`
	ValLoss *float64 `json:"val_loss,omitempty"` // mean cross-entropy of P(pass) on validation
	Elapsed float64  `json:"elapsed_s"`
}

const checkpointDir = "checkpoint"

// Fingerprint names what a run learns from: its problems and candidates
// (set, task, key, code, verdict), the validation split, the tokenizer, and
// the options that shape the weights (seed, loss, learning rate and
// schedule, group size, weight decay, clipping, model config). Options
// that only say how long or how often (steps, validation and checkpoint
// intervals, patience, a pause) are left out, so a run may be resumed to
// train longer.
func Fingerprint(train, val []*Problem, tok *ranker.Tokenizer, opts Options) string {
	h := sha256.New()
	if tok != nil {
		fmt.Fprintf(h, "tokenizer %v\n", tok.Merges)
	}
	for _, part := range [][]*Problem{train, val} {
		fmt.Fprintf(h, "part %d\n", len(part))
		for _, p := range part {
			fmt.Fprintf(h, "%d %q %g %d\n", p.Set, p.TaskID, p.Weight, len(p.Rows))
			for _, r := range p.Rows {
				fmt.Fprintf(h, "%q %d %v %q %q\n", r.Key.TaskID, r.Key.Index, r.Label.Passed, r.Label.Status, r.Code)
			}
		}
	}
	cfg, _ := json.Marshal(opts.Config)
	fmt.Fprintf(h, "seed %d loss %+v lr %g warmup %d group %d wd %g clip %g config %s\n",
		opts.Seed, opts.Loss, opts.LR, opts.Warmup, opts.GroupSize, opts.WeightDecay, opts.Clip, cfg)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// ErrPaused is returned when training stops at Options.StopAt.
var ErrPaused = errors.New("train: paused at the requested step; run again to resume")

// Train trains (or resumes training of) a ranker in opts.ModelDir on the
// train problems, validating on val (problem-disjoint from train). The best
// model by validation ranked pass@1 (the last one without validation) is
// written to ModelDir; a resumable checkpoint (weights, optimizer state,
// trainer state) to ModelDir/checkpoint every CheckpointEvery steps. A
// cancelled ctx saves a checkpoint and returns ctx's error.
func Train(ctx context.Context, backend backends.Backend, tok *ranker.Tokenizer, opts Options, train, val []*Problem) (*ranker.Model, error) {
	if len(train) == 0 {
		return nil, errors.New("train: no training problems")
	}
	ckDir := filepath.Join(opts.ModelDir, checkpointDir)
	var st State
	var m *ranker.Model
	var err error
	b, rerr := os.ReadFile(filepath.Join(ckDir, "state.json"))
	resumed := rerr == nil
	if resumed {
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("train: %s: %w", ckDir, err)
		}
		if m, err = ranker.Load(backend, ckDir); err != nil {
			return nil, fmt.Errorf("train: resuming from %s: %w", ckDir, err)
		}
		slog.Info("resuming", "dir", ckDir, "step", st.Step, "best_val_pass@1", st.BestVal)
		opts.Config = m.Config
	} else if opts.Init != nil {
		// A copy of Init's weights in a context of its own.
		if err := opts.Init.Save(ckDir, false); err != nil {
			return nil, err
		}
		if m, err = ranker.Load(backend, ckDir); err != nil {
			return nil, fmt.Errorf("train: starting from the given model: %w", err)
		}
		opts.Config = m.Config
	} else {
		if m, err = ranker.New(backend, opts.Config, tok); err != nil {
			return nil, err
		}
	}
	fp := Fingerprint(train, val, tok, opts)
	switch {
	case !resumed:
	case st.Data == "":
		slog.Warn("the checkpoint does not say what it was trained on (made by an older toppass): resuming", "dir", ckDir)
	case st.Data != fp && !opts.ResumeOnOtherData:
		return nil, fmt.Errorf("train: the checkpoint in %s was made from other training data or options "+
			"(candidates, labels, validation split, tokenizer, seed, loss, learning rate, group size or model config); "+
			"train into another folder, or remove this one to start afresh", ckDir)
	}
	st.Data = fp
	if st.Stopped || st.Step >= opts.Steps {
		slog.Info("training already finished", "step", st.Step)
		return finalModel(backend, opts.ModelDir, m)
	}

	t0 := time.Now()
	Encode(m, train)
	Encode(m, val)
	var pos, neg int
	for _, p := range train {
		n := p.Passes()
		pos += n
		neg += len(p.Rows) - n
	}
	st.TrainRows = pos + neg
	posWeight := math.Min(10, math.Max(1, float64(neg)/math.Max(1, float64(pos))))
	slog.Info("training data", "problems", len(train), "rows", pos+neg, "passing", pos, "pos_weight", posWeight,
		"val_problems", len(val), "encode_s", time.Since(t0).Seconds())

	if len(val) > 0 && st.Step == 0 {
		slog.Info("validation baseline", "lexical_consensus_pass@1", ValidateBy(val, func(p *Problem, i int) float64 { return float64(p.Group.Feats[i][0]) }))
	}
	pick := newPicker(train)
	step, err := newStepper(backend, m, opts)
	if err != nil {
		return nil, err
	}
	mf, err := os.OpenFile(filepath.Join(opts.ModelDir, "metrics.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer mf.Close()
	enc := json.NewEncoder(mf)

	var bar *progress.Bar
	if opts.Progress != nil {
		bar = progress.New(opts.Progress, "train", int64(opts.Steps), func() string {
			return fmt.Sprintf("loss %.4f val@1 %.2f", st.LossEMA, st.BestVal)
		})
		bar.Add(st.Step)
		defer bar.Done()
	}
	saveCheckpoint := func() error {
		if err := m.Save(ckDir, true); err != nil {
			return err
		}
		b, _ := json.MarshalIndent(st, "", "  ")
		return os.WriteFile(filepath.Join(ckDir, "state.json"), b, 0o644)
	}
	start := time.Now()
	base := st.ElapsedS
	for st.Step < opts.Steps && !st.Stopped {
		if opts.BeforeStep != nil && ctx.Err() == nil {
			if err := opts.BeforeStep(ctx); err != nil && ctx.Err() == nil {
				return nil, err
			}
		}
		if ctx.Err() != nil {
			st.ElapsedS = base + time.Since(start).Seconds()
			if err := saveCheckpoint(); err != nil {
				return nil, err
			}
			return nil, ctx.Err()
		}
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(st.Step)))
		p := train[pick.draw(rng)]
		idx := SampleGroup(rng, p, opts.GroupSize)
		lr := schedule(opts, st.Step)
		loss, err := step.run(p, idx, lr, posWeight)
		if err != nil {
			return nil, fmt.Errorf("train step %d: %w", st.Step, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return nil, fmt.Errorf("train step %d: loss is %v", st.Step, loss)
		}
		if st.LossEMA == 0 {
			st.LossEMA = loss
		}
		st.LossEMA = 0.98*st.LossEMA + 0.02*loss
		st.Step++
		if bar != nil {
			bar.Add(1)
		}
		met := Metric{Step: st.Step, Loss: loss, LR: lr, Elapsed: base + time.Since(start).Seconds()}
		if len(val) > 0 && (st.Step%opts.ValEvery == 0 || st.Step == opts.Steps) {
			v, vl, err := ValidateLoss(m, val)
			if err != nil {
				return nil, err
			}
			met.ValPass, met.ValLoss = &v, &vl
			if v > st.BestVal || st.BestStep == 0 {
				st.BestVal, st.BestStep, st.BadEvals = v, st.Step, 0
				if err := m.Save(opts.ModelDir, false); err != nil {
					return nil, err
				}
			} else {
				st.BadEvals++
				if opts.Patience > 0 && st.BadEvals >= opts.Patience {
					st.Stopped = true
				}
			}
			slog.Info("validation", "step", st.Step, "val_pass@1", v, "best", st.BestVal, "best_step", st.BestStep, "loss_ema", st.LossEMA)
		}
		if err := enc.Encode(met); err != nil {
			return nil, err
		}
		pause := opts.StopAt > 0 && st.Step >= opts.StopAt
		if st.Step%opts.CheckpointEvery == 0 || st.Step == opts.Steps || st.Stopped || pause {
			st.ElapsedS = base + time.Since(start).Seconds()
			if err := saveCheckpoint(); err != nil {
				return nil, err
			}
		}
		if pause {
			return nil, ErrPaused
		}
	}
	if len(val) == 0 {
		if err := m.Save(opts.ModelDir, false); err != nil {
			return nil, err
		}
	}
	best, err := finalModel(backend, opts.ModelDir, m)
	if err != nil || len(val) == 0 || opts.NoCalibration {
		return best, err
	}
	if err := Calibrate(best, val); err != nil {
		return nil, err
	}
	return best, best.Save(opts.ModelDir, false)
}

// Calibrate fits m's Platt scaling of P(pass) on problems (validation
// data: problems it did not train on) and sets it in m's config; a fit
// that would not keep the order of the logits is not set.
func Calibrate(m *ranker.Model, probs []*Problem) error {
	saved := m.Config.Calibration
	m.Config.Calibration = nil
	var x []float64
	var y []bool
	for _, p := range probs {
		preds, err := m.Predict(p.Group)
		if err != nil {
			m.Config.Calibration = saved
			return err
		}
		for i, r := range p.Rows {
			q := math.Min(1-1e-7, math.Max(1e-7, preds[i].PPass))
			x, y = append(x, math.Log(q/(1-q))), append(y, r.Label.Passed)
		}
	}
	a, b := metrics.FitPlatt(x, y)
	if !(a > 0) || math.IsNaN(b) || math.IsInf(a+b, 0) {
		slog.Warn("calibration not set: the fit does not keep the order", "a", a, "b", b)
		m.Config.Calibration = saved
		return nil
	}
	m.Config.Calibration = &ranker.Platt{A: a, B: b, Fit: fmt.Sprintf("validation: %d problems, %d candidates", len(probs), len(x))}
	slog.Info("P(pass) calibrated on validation", "a", a, "b", b, "candidates", len(x))
	return nil
}

func finalModel(backend backends.Backend, dir string, m *ranker.Model) (*ranker.Model, error) {
	if _, err := os.Stat(filepath.Join(dir, ranker.WeightsFile)); err != nil {
		if err := m.Save(dir, false); err != nil {
			return nil, err
		}
	}
	return ranker.Load(backend, dir)
}

// picker draws problems in proportion to their weights.
type picker struct{ cum []float64 }

func newPicker(probs []*Problem) picker {
	var p picker
	total := 0.0
	for _, pr := range probs {
		w := pr.Weight
		if w <= 0 {
			w = 1
		}
		total += w
		p.cum = append(p.cum, total)
	}
	return p
}

func (p picker) draw(rng *rand.Rand) int {
	x := rng.Float64() * p.cum[len(p.cum)-1]
	i, _ := slices.BinarySearch(p.cum, x)
	return min(i, len(p.cum)-1)
}

// schedule: linear warm-up, then cosine decay to a tenth of the peak.
func schedule(o Options, step int) float64 {
	if step < o.Warmup {
		return o.LR * float64(step+1) / float64(o.Warmup)
	}
	frac := float64(step-o.Warmup) / math.Max(1, float64(o.Steps-o.Warmup))
	return o.LR * (0.1 + 0.9*0.5*(1+math.Cos(math.Pi*math.Min(1, frac))))
}

// SampleGroup picks up to size rows of p at random, keeping the problem's
// own mix of passing and failing candidates (the set-aware head compares a
// candidate with its group, so the group must look like the ranking-time
// set), except that a problem with both kinds always gives at least one
// of each, so the pairwise losses have pairs.
func SampleGroup(rng *rand.Rand, p *Problem, size int) []int {
	perm := rng.Perm(len(p.Rows))
	if len(perm) <= size {
		return perm
	}
	idx := perm[:size]
	for _, want := range []bool{true, false} {
		has := slices.ContainsFunc(idx, func(i int) bool { return p.Rows[i].Label.Passed == want })
		if has {
			continue
		}
		for _, i := range perm[size:] {
			if p.Rows[i].Label.Passed == want {
				// replace a row of the kind that is in excess
				for k := range idx {
					if p.Rows[idx[k]].Label.Passed != want {
						idx[k] = i
						break
					}
				}
				break
			}
		}
	}
	return idx
}

// Validate is the mean ranked pass@1 of m over problems.
func Validate(m *ranker.Model, probs []*Problem) (float64, error) {
	pass1, _, err := ValidateLoss(m, probs)
	return pass1, err
}

// ValidateLoss is Validate, and the validation loss: the mean binary
// cross-entropy of the predicted P(pass) against the labels over every
// candidate of probs (the loss the dashboard plots beside training's).
func ValidateLoss(m *ranker.Model, probs []*Problem) (pass1, loss float64, err error) {
	scores := map[*Problem][]ranker.Prediction{}
	n := 0
	for _, p := range probs {
		preds, err := m.Predict(p.Group)
		if err != nil {
			return 0, 0, err
		}
		scores[p] = preds
		for i, r := range p.Rows {
			q := math.Min(1-1e-7, math.Max(1e-7, preds[i].Score))
			if r.Label.Passed {
				loss -= math.Log(q)
			} else {
				loss -= math.Log(1 - q)
			}
			n++
		}
	}
	return ValidateBy(probs, func(p *Problem, i int) float64 { return scores[p][i].Score }), loss / float64(max(1, n)), nil
}

// ValidateBy is the mean ranked pass@1 over probs of ranking by score.
func ValidateBy(probs []*Problem, score func(p *Problem, i int) float64) float64 {
	var sum float64
	for _, p := range probs {
		sc := make([]metrics.Scored, len(p.Rows))
		for i, r := range p.Rows {
			sc[i] = metrics.Scored{Score: score(p, i), Passed: r.Label.Passed}
		}
		sum += metrics.RankedPassAtK(sc, 1)
	}
	return 100 * sum / float64(max(1, len(probs)))
}

// stepper runs one optimisation step.
type stepper struct {
	m    *ranker.Model
	opts Options
	exec *mlctx.Exec
}

// gradientNorms returns the L2 norm of the loss's gradient for each
// trainable variable on one group (for tests).
func gradientNorms(backend backends.Backend, m *ranker.Model, opts Options, p *Problem, idx []int) ([]float64, error) {
	s := &stepper{m: m, opts: opts}
	cfg := m.Config
	e, err := mlctx.NewExec(backend, m.Ctx.Checked(false), func(ctx *mlctx.Context, in []*Node) []*Node {
		g := in[0].Graph()
		ctx.SetTraining(g, true)
		loss, _ := Loss(opts.Loss, ranker.Forward(ctx, cfg, modelInputs(in)), targets(in))
		grads := ctx.BuildTrainableVariablesGradientsGraph(loss)
		out := make([]*Node, len(grads))
		for i, gr := range grads {
			out[i] = Sqrt(ReduceAllSum(Square(gr)))
		}
		ranker.ForgetDots(g)
		return out
	})
	if err != nil {
		return nil, err
	}
	res, err := e.Exec(s.args(p, idx, opts.LR, 1)...)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(res))
	for i, r := range res {
		out[i] = float64(tensors.MustCopyFlatData[float32](r)[0])
	}
	return out, nil
}

func modelInputs(in []*Node) ranker.Inputs {
	return ranker.Inputs{Cand: in[0], CandMask: in[1], Prob: in[2], ProbMask: in[3], Feats: in[4], Valid: in[5]}
}

func targets(in []*Node) Targets {
	return Targets{Pass: in[6], Ternary: in[7], Intent: in[8], Exec: in[9], Reward: in[10], LineMask: in[11], HasLine: in[12],
		Valid: in[5], PosWeight: in[13]}
}

func newStepper(backend backends.Backend, m *ranker.Model, opts Options) (*stepper, error) {
	cfg := m.Config
	opt := optimizers.Adam().WeightDecay(opts.WeightDecay).Done()
	lossParams := opts.Loss
	if !slices.Contains(Losses, lossParams.Loss) {
		return nil, fmt.Errorf("unknown loss %q (want one of %v)", lossParams.Loss, Losses)
	}
	withGrads, ok := opt.(interface {
		UpdateGraphWithGradients(ctx *mlctx.Context, grads []*Node, lossDType dtypes.DType)
	})
	if !ok {
		return nil, errors.New("train: the optimizer cannot take clipped gradients")
	}
	e, err := mlctx.NewExec(backend, m.Ctx.Checked(false), func(ctx *mlctx.Context, in []*Node) *Node {
		g := in[0].Graph()
		ctx.SetTraining(g, true)
		loss, _ := Loss(lossParams, ranker.Forward(ctx, cfg, modelInputs(in)), targets(in)) // the name was checked above
		grads := ctx.BuildTrainableVariablesGradientsGraph(loss)
		if opts.Clip > 0 {
			var sq *Node
			for _, gr := range grads {
				s := ReduceAllSum(Square(gr))
				if sq == nil {
					sq = s
				} else {
					sq = Add(sq, s)
				}
			}
			norm := Sqrt(sq)
			scale := Div(Scalar(g, dtypes.Float32, opts.Clip), Max(norm, Scalar(g, dtypes.Float32, opts.Clip)))
			for i := range grads {
				grads[i] = Mul(grads[i], scale)
			}
		}
		optimizers.LearningRateVar(ctx, dtypes.Float32, opts.LR).SetValueGraph(in[14])
		withGrads.UpdateGraphWithGradients(ctx, grads, dtypes.Float32)
		ranker.ForgetDots(g)
		return loss
	})
	if err != nil {
		return nil, err
	}
	return &stepper{m: m, opts: opts, exec: e}, nil
}

func (s *stepper) run(p *Problem, idx []int, lr, posWeight float64) (float64, error) {
	out, err := s.exec.Exec(s.args(p, idx, lr, posWeight)...)
	if err != nil {
		return 0, err
	}
	v := float64(tensors.MustCopyFlatData[float32](out[0])[0])
	out[0].FinalizeAll()
	return v, nil
}

// args are a step's inputs: the model's six, the targets, the positive
// weight and the learning rate.
func (s *stepper) args(p *Problem, idx []int, lr, posWeight float64) []any {
	cfg := s.m.Config
	G := s.opts.GroupSize
	args := cfg.Batch(p.Group, idx, G)
	pass := make([]float32, G)
	tern := make([]int32, G)
	intent := make([]int32, G)
	exec := make([]int32, G)
	reward := make([]float32, G)
	lineMask := make([]float32, G*cfg.CandLen)
	hasLine := make([]float32, G)
	for r, i := range idx {
		row := p.Rows[i]
		if row.Label.Passed {
			pass[r] = 1
		}
		tern[r], intent[r], exec[r], reward[r] = row.Ternary, row.Intent, row.Exec, row.Reward
		if el := int32(row.Label.ErrorLine); el > 0 && !row.Label.Passed {
			for j, ln := range p.Group.Lines[i] {
				if ln == el {
					lineMask[r*cfg.CandLen+j] = 1
					hasLine[r] = 1
				}
			}
		}
	}
	all := make([]any, 0, 15)
	for _, a := range args {
		all = append(all, a)
	}
	all = append(all,
		tensors.FromFlatDataAndDimensions(pass, G),
		tensors.FromFlatDataAndDimensions(tern, G),
		tensors.FromFlatDataAndDimensions(intent, G),
		tensors.FromFlatDataAndDimensions(exec, G),
		tensors.FromFlatDataAndDimensions(reward, G),
		tensors.FromFlatDataAndDimensions(lineMask, G, cfg.CandLen),
		tensors.FromFlatDataAndDimensions(hasLine, G),
		tensors.FromScalar(float32(posWeight)),
		tensors.FromScalar(float32(lr)),
	)
	return all
}

// BenchSteps times n training steps of m on groups sampled from p (for
// `toppass bench ranker`); the first includes compilation.
func BenchSteps(backend backends.Backend, m *ranker.Model, p *Problem, group, n int) ([]time.Duration, error) {
	opts := DefaultOptions
	opts.GroupSize = group
	opts.Config = m.Config
	Encode(m, []*Problem{p})
	st, err := newStepper(backend, m, opts)
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for i := 0; i < n; i++ {
		idx := SampleGroup(rand.New(rand.NewPCG(1, uint64(i))), p, group)
		t0 := time.Now()
		if _, err := st.run(p, idx, opts.LR, 1); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}
