package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/backends"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/hybrid"
	"github.com/toppass/toppass/metrics"
	"github.com/toppass/toppass/mutate"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/static"
	"github.com/toppass/toppass/trainer"
)

type trainFlags struct {
	Set        []string `sep:"none" help:"A labelled candidate set: problems.jsonl,candidates.jsonl,labels.jsonl (repeatable); labels 'reference' takes the verdicts recorded in the candidates (reference_status)."`
	Problems   string   `type:"existingfile" help:"Problems JSONL (with --candidates and --labels: one set)."`
	Candidates string   `type:"existingfile" help:"Candidates JSONL."`
	Labels     string   `type:"existingfile" help:"Labels JSONL from 'toppass label'."`
	Extra      []string `sep:"none" help:"Training-only labelled sets (problems,candidates,labels): never validated nor evaluated on, drawn for --extra-share of the steps (e.g. LeetCode mutants)."`
	ExtraShare float64  `default:"0.3" help:"Share of training steps drawn from the --extra problems."`
	Tokenizer  string   `type:"existingfile" help:"Use this tokenizer.json instead of training one on the data."`
	Preset     string   `default:"small" enum:"tiny,small" help:"Model size (tiny: tests; small: the default, sized for CPUs)."`
	GroupFeat  bool     `name:"group-features" help:"Give the set features whose level is the generator's (consensus levels, log length) as z-scores within the problem."`
	Loss       string   `default:"toppass" enum:"toppass,ce,coderanker,rrtf" help:"toppass: squared hinge over top positives x top negatives + lambda*CE; ce: class-weighted cross-entropy; coderanker: CE + fault heads (multi-task); rrtf: listwise rank hinge over reward tiers + lambda*CE."`
	TopP       float64  `default:"0.5" help:"Top Pass: fraction of a group's positives (highest-scored) paired."`
	TopQ       float64  `default:"0.5" help:"Top Pass: fraction of a group's negatives (highest-scored) paired."`
	Lambda     float64  `default:"0.3" help:"Weight of cross-entropy in toppass and rrtf."`
	AuxWeight  float64  `default:"0.2" help:"Weight of the fault heads (ternary, classes, error line) added to toppass/ce/rrtf."`
	Steps      int      `default:"600" help:"Optimisation steps (one problem's group each)."`
	Group      int      `default:"16" help:"Candidates per step, from one problem."`
	LR         float64  `name:"lr" default:"0.001" help:"Peak learning rate (AdamW)."`
	Warmup     int      `default:"100" help:"Warm-up steps."`
	ValFrac    float64  `default:"0.1" help:"Fraction of problems held out for validation and early stopping."`
	ValEvery   int      `default:"150" help:"Validate every N steps."`
	Patience   int      `default:"3" help:"Stop after N validations without improvement (0: never)."`
	Seed       uint64   `default:"1" help:"Seed for sampling."`
	Calibrate  bool     `default:"true" negatable:"" help:"Fit P(pass)'s calibration (Platt scaling) on the validation problems at the end (--no-calibrate: when they are unlike the problems the model will rank)."`
	Backend    string   `default:"go" help:"GoMLX backend: go (pure Go, CPU) or, in a binary built with -tags xla, xla:cuda / xla:cpu."`
}

// parseSets parses "problems,candidates,labels" flags.
func parseSets(specs []string) ([]trainer.Set, error) {
	var out []trainer.Set
	for _, s := range specs {
		set, err := trainer.ParseSet(s)
		if err != nil {
			return nil, err
		}
		out = append(out, set)
	}
	return out, nil
}

// extraSets parses --extra.
func (f *trainFlags) extraSets() ([]trainer.Set, error) { return parseSets(f.Extra) }

// weighExtra numbers extra's sets after the main ones and weights its
// problems so they get ExtraShare of the draws against nMain main groups.
func (f *trainFlags) weighExtra(extra []*trainer.Problem, mainSets, nMain int) {
	for _, p := range extra {
		p.Set += mainSets
		if f.ExtraShare > 0 && f.ExtraShare < 1 {
			p.Weight = f.ExtraShare / (1 - f.ExtraShare) * float64(nMain) / float64(len(extra))
		}
	}
}

func (f *trainFlags) sets() ([]trainer.Set, error) {
	out, err := parseSets(f.Set)
	if err != nil {
		return nil, err
	}
	if f.Problems != "" || f.Candidates != "" || f.Labels != "" {
		if f.Problems == "" || f.Candidates == "" || f.Labels == "" {
			return nil, errors.New("--problems, --candidates and --labels go together")
		}
		out = append(out, trainer.Set{Problems: f.Problems, Candidates: f.Candidates, Labels: f.Labels})
	}
	if len(out) == 0 {
		return nil, errors.New("no training data: give --set or --problems/--candidates/--labels")
	}
	return out, nil
}

func (f *trainFlags) options(dir string) trainer.Options {
	o := trainer.DefaultOptions
	o.ModelDir = dir
	o.Config = ranker.Presets[f.Preset]
	o.Config.GroupFeatures = f.GroupFeat
	o.Loss = trainer.LossParams{Loss: f.Loss, TopP: f.TopP, TopQ: f.TopQ, Lambda: f.Lambda, AuxWeight: f.AuxWeight}
	o.Steps, o.GroupSize, o.LR, o.Warmup, o.ValEvery, o.Patience, o.Seed = f.Steps, f.Group, f.LR, f.Warmup, f.ValEvery, f.Patience, f.Seed
	o.Progress = os.Stderr
	o.NoCalibration = !f.Calibrate
	return o
}

// tokenizer loads --tokenizer, or the one saved in dir when it was trained
// on the same texts (a resumed run, a cross-validation's folds), or trains
// one on probs and saves it there with what it was trained on
// (tokenizer.source): a folder trained before on other data gets a fresh
// tokenizer rather than a stale one.
func (f *trainFlags) tokenizer(dir string, probs []*trainer.Problem, vocab int) (*ranker.Tokenizer, error) {
	if f.Tokenizer != "" {
		return ranker.LoadTokenizer(f.Tokenizer)
	}
	path := filepath.Join(dir, ranker.TokenizerFile)
	srcPath := filepath.Join(dir, "tokenizer.source")
	src := trainer.TokenizerSource(probs, vocab)
	if b, err := os.ReadFile(srcPath); err == nil && strings.TrimSpace(string(b)) == src {
		if tok, err := ranker.LoadTokenizer(path); err == nil {
			return tok, nil
		}
	} else if _, err := os.Stat(path); err == nil {
		slog.Warn("the tokenizer in the model folder was trained on other texts: training a new one", "dir", dir)
	}
	slog.Info("training the BPE tokenizer", "vocab", vocab)
	tok := trainer.TokenizerFor(probs, vocab)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := tok.Save(path); err != nil {
		return nil, err
	}
	return tok, os.WriteFile(srcPath, []byte(src+"\n"), 0o644)
}

// loadSets reads labelled sets and analyses their candidates statically in
// the sandbox (results cached in cacheDir/static-cache.jsonl).
func loadSets(ctx context.Context, specs []trainer.Set, cacheDir string, bad *dataset.ErrorLog) ([]*trainer.Problem, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	an, err := static.New(ctx, 0)
	if err != nil {
		return nil, err
	}
	defer an.Close(ctx)
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	if err := an.UseCache(filepath.Join(cacheDir, "static-cache.jsonl")); err != nil {
		return nil, err
	}
	probs, err := trainer.LoadSets(ctx, specs, an.All, bad)
	if err != nil {
		return nil, err
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	return probs, nil
}

type trainCmd struct {
	ModelDir string `required:"" help:"Where the model goes (config.json, tokenizer.json, weights.bin.zst, metrics.jsonl, checkpoint/); an interrupted run resumes from it."`
	Half     int    `default:"-1" help:"Train and validate only on the problems of this half of the --set data (0 or 1, split by a hash of the task id; -1: all of them); --extra is not split. The other half is left for 'toppass generalization --cross-fit'."`
	trainFlags
}

func (c *trainCmd) Run(ctx context.Context) error {
	if c.Half < -1 || c.Half > 1 {
		return fmt.Errorf("--half %d: 0, 1 or -1 (all)", c.Half)
	}
	d, err := c.load(ctx, c.ModelDir, c.Half)
	if err != nil {
		return err
	}
	be, err := ranker.NewBackend(c.Backend)
	if err != nil {
		return err
	}
	train, val := trainer.SplitValidation(d.probs, c.ValFrac)
	c.weighExtra(d.extra, len(d.specs), len(train))
	train = append(train, d.extra...)
	_, err = trainer.Train(ctx, be, d.tok, c.options(c.ModelDir), train, val)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: checkpoint saved in %s; run the same command again to resume", c.ModelDir)
	}
	return err
}

// trainData is what train and cv read: the labelled sets, the extra
// (training-only) sets and the tokenizer.
type trainData struct {
	specs, extraSpecs []trainer.Set
	probs, extra      []*trainer.Problem
	tok               *ranker.Tokenizer
}

// load reads --set/--problems (only the problems of one half, dataset.Half,
// when half is 0 or 1) and --extra (static analysis cached in dir) and
// loads or trains the tokenizer there.
func (f *trainFlags) load(ctx context.Context, dir string, half int) (*trainData, error) {
	d := &trainData{}
	var err error
	if d.specs, err = f.sets(); err != nil {
		return nil, err
	}
	if d.extraSpecs, err = f.extraSets(); err != nil {
		return nil, err
	}
	if half >= 0 {
		for i := range d.specs {
			d.specs[i].Keep = func(taskID string) bool { return dataset.Half(taskID) == half }
		}
	}
	var bad dataset.ErrorLog
	if d.probs, err = loadSets(ctx, d.specs, dir, &bad); err != nil {
		return nil, err
	}
	if half >= 0 {
		if len(d.probs) == 0 {
			return nil, fmt.Errorf("no problem of the --set data falls in half %d", half)
		}
		slog.Info("training on one half of the problems", "half", half, "groups", len(d.probs))
	}
	if d.extra, err = loadSets(ctx, d.extraSpecs, dir, &bad); err != nil {
		return nil, err
	}
	// The tokenizer sees no labels: sharing it between folds leaks nothing
	// about held-out verdicts.
	d.tok, err = f.tokenizer(dir, append(append([]*trainer.Problem(nil), d.probs...), d.extra...), ranker.Presets[f.Preset].Vocab)
	return d, err
}

type cvCmd struct {
	Dir   string `required:"" help:"Output folder: fold-N/ (model, checkpoint, scores-S.jsonl per evaluated set S, numbered from 0 in --set order)."`
	Folds int    `default:"5" help:"Number of problem-disjoint folds."`
	Fold  int    `default:"-1" help:"Run only this fold (to spread folds over processes); -1: all."`
	trainFlags
}

func (c *cvCmd) Run(ctx context.Context) error {
	d, err := c.load(ctx, c.Dir, -1)
	if err != nil {
		return err
	}
	// Extra problems get ExtraShare of the draws, however many there are.
	c.weighExtra(d.extra, len(d.specs), len(d.probs)*(c.Folds-1)/c.Folds)
	return trainer.CrossValidate(ctx, trainer.CVConfig{
		Sets: d.specs, Extra: d.extraSpecs, Folds: c.Folds, Only: c.Fold, Dir: c.Dir, ValFrac: c.ValFrac, Options: c.options(""),
		Backends: func() (backends.Backend, error) { return ranker.NewBackend(c.Backend) },
	}, d.probs, d.extra, d.tok)
}

// loadModel opens the model in dir, or the shipped one when dir is "".
func loadModel(backend, dir string) (*ranker.Model, error) {
	be, err := ranker.NewBackend(backend)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return ranker.LoadDefault(be)
	}
	return ranker.Load(be, dir)
}

type ensembleCmd struct {
	Out    string   `required:"" help:"Model directory to write (config, tokenizer, weights, weights-N of the further members)."`
	Models []string `arg:"" type:"existingdir" help:"Model directories (from 'toppass train'), the first one's config and tokenizer kept."`
}

func (c *ensembleCmd) Run() error {
	be, err := ranker.NewBackend("go")
	if err != nil {
		return err
	}
	var ms []*ranker.Model
	for _, dir := range c.Models {
		m, err := ranker.Load(be, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		ms = append(ms, m)
	}
	e, err := ranker.Ensemble(ms...)
	if err != nil {
		return err
	}
	if err := e.Save(c.Out, false); err != nil {
		return err
	}
	slog.Info("ensemble written", "out", c.Out, "members", e.Members())
	return nil
}

type mutateCmd struct {
	From       string `required:"" type:"existingfile" help:"JSONL(.gz) with task_id and a reference solution (completion or canonical_solution; with --response, a model's answer), e.g. LeetCode train.jsonl.gz."`
	Out        string `required:"" help:"Candidates JSONL to write: each program (index --first-index) and its mutants; label it with 'toppass label'."`
	Per        int    `default:"8" help:"Mutants per program."`
	Seed       uint64 `default:"1" help:"Seed (the same seed gives the same mutants)."`
	Response   bool   `help:"Mutate the model's answer in the field response (its longest python code block; LeetCodeDataset has one per problem) instead of the reference: right programs in a generator's style, and mutants of them."`
	FirstIndex int    `default:"0" help:"Index of each problem's program (its mutants follow): give a second file for the same problems indices of its own (e.g. 1000) so both can be labelled and trained on together."`
}

func (c *mutateCmd) Run() error {
	f, err := os.Create(c.Out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var bad dataset.ErrorLog
	res, err := mutate.File(c.From, mutate.Options{Per: c.Per, Seed: c.Seed, Response: c.Response, FirstIndex: c.FirstIndex}, w, bad.Add)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	slog.Info("mutants written", "programs", res.Programs, "mutants", res.Mutants, "responses without code", res.NoCode, "out", c.Out)
	return bad.Err()
}

type exportRRTFCmd struct {
	Problems   string `required:"" type:"existingfile" help:"Problems JSONL (the prompts)."`
	Candidates string `required:"" type:"existingfile" help:"Candidates JSONL (the responses)."`
	Labels     string `required:"" type:"existingfile" help:"Labels JSONL from 'toppass label' (the rewards)."`
	Scores     string `type:"existingfile" help:"Ranker scores JSONL, to order responses of equal reward."`
	Out        string `required:"" help:"Preference data JSONL: {task_id, prompt, responses ordered best first}."`
}

func (c *exportRRTFCmd) Run() error {
	var bad dataset.ErrorLog
	probs, err := trainer.LoadSets(context.Background(), []trainer.Set{{Problems: c.Problems, Candidates: c.Candidates, Labels: c.Labels}}, nil, &bad)
	if err != nil {
		return err
	}
	all, _, err := dataset.ReadProblems(c.Problems, bad.Add)
	if err != nil {
		return err
	}
	prompts := map[string]string{}
	for id, p := range all {
		prompts[id] = p.Prompt
		if p.Prompt == "" {
			prompts[id] = p.Statement()
		}
	}
	var scores map[dataset.Key]float64
	if c.Scores != "" {
		if scores, err = metrics.ReadScores(c.Scores, bad.Add); err != nil {
			return err
		}
	}
	f, err := os.Create(c.Out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	n, err := trainer.ExportRRTF(probs, prompts, scores, w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	slog.Info("RRTF data written", "prompts", n, "out", c.Out)
	return bad.Err()
}

type fuseCmd struct {
	Set        []string `required:"" sep:"none" help:"labels.jsonl,neural-scores.jsonl[,exec-scores.jsonl...]: labelled candidates with the neural ranker's scores (out-of-fold ones from 'toppass cv' for an honest estimate) and 'toppass rank --method exec|codet' outputs, merged (repeatable)."`
	NoExamples bool     `help:"Ignore the examples in the execution files (for estimates without the prompt's examples)."`
	Folds      int      `default:"5" help:"Problem-disjoint folds for the estimate (the same split as 'toppass cv')."`
	Out        string   `help:"Write the fused out-of-fold scores here (JSONL), for 'toppass eval'."`
	Rule       bool     `help:"Score with the rule-based fallback instead of a learnt fusion."`
	Save       string   `help:"Fit the fusion on all sets and save it here (JSON)."`
	Steps      int      `default:"400" help:"Optimisation steps of the logistic fusion."`
}

func (c *fuseCmd) Run() error {
	var bad dataset.ErrorLog
	var groups []*hybrid.Group
	for _, s := range c.Set {
		parts := strings.Split(s, ",")
		if len(parts) < 2 {
			return fmt.Errorf("--set %q: want labels,neural[,exec...]", s)
		}
		gs, err := hybrid.ReadGroups(parts[0], parts[1], parts[2:], &bad)
		if err != nil {
			return err
		}
		if c.NoExamples {
			for _, g := range gs {
				for _, x := range g.X {
					x[2], x[3], x[4] = 0, 0, 0
				}
			}
		}
		groups = append(groups, gs...)
	}
	if err := bad.Err(); err != nil {
		return err
	}
	be, err := ranker.NewBackend("go")
	if err != nil {
		return err
	}
	toFusion := func(gs []*hybrid.Group) []trainer.FusionGroup {
		var out []trainer.FusionGroup
		for _, g := range gs {
			out = append(out, trainer.FusionGroup{X: g.X, Passed: g.Passed})
		}
		return out
	}
	if c.Out != "" {
		var ids []string
		for _, g := range groups {
			ids = append(ids, g.TaskID)
		}
		folds := trainer.Folds(ids, c.Folds)
		f, err := os.Create(c.Out)
		if err != nil {
			return err
		}
		defer f.Close()
		w := bufio.NewWriter(f)
		enc := json.NewEncoder(w)
		for k := 0; k < c.Folds; k++ {
			var train, test []*hybrid.Group
			for _, g := range groups {
				if folds[g.TaskID] == k {
					test = append(test, g)
				} else {
					train = append(train, g)
				}
			}
			var m *hybrid.Fusion
			if !c.Rule {
				if m, err = trainer.FitFusion(be, toFusion(train), c.Steps, ""); err != nil {
					return err
				}
				slog.Info("fusion fold", "fold", k, "weights", m.Weights)
			}
			for _, g := range test {
				for i, x := range g.X {
					s := hybrid.Rule(x)
					if m != nil {
						s = m.Score(x)
					}
					enc.Encode(map[string]any{"task_id": g.TaskID, "index": g.Keys[i].Index, "score": s, "fold": k})
				}
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		slog.Info("fused out-of-fold scores written", "problems", len(groups), "out", c.Out)
	}
	if c.Save != "" {
		m, err := trainer.FitFusion(be, toFusion(groups), c.Steps, "fit by 'toppass fuse' on: "+strings.Join(c.Set, " "))
		if err != nil {
			return err
		}
		if err := m.Save(c.Save); err != nil {
			return err
		}
		slog.Info("fusion saved", "out", c.Save, "weights", m.Weights)
	}
	return nil
}
