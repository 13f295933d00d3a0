package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/trainer"
)

type trainFlags struct {
	Set        []string `help:"A labelled candidate set: problems.jsonl,candidates.jsonl,labels.jsonl (repeatable)."`
	Problems   string   `type:"existingfile" help:"Problems JSONL (with --candidates and --labels: one set)."`
	Candidates string   `type:"existingfile" help:"Candidates JSONL."`
	Labels     string   `type:"existingfile" help:"Labels JSONL from 'toppass label'."`
	Tokenizer  string   `type:"existingfile" help:"Use this tokenizer.json instead of training one on the data."`
	Preset     string   `default:"small" enum:"tiny,small" help:"Model size (tiny: tests; small: the default, sized for CPUs)."`
	Loss       string   `default:"toppass" enum:"toppass,ce,coderanker,rrtf" help:"toppass: squared hinge over top positives x top negatives + lambda*CE; ce: class-weighted cross-entropy; coderanker: CE + fault heads (multi-task); rrtf: listwise rank hinge over reward tiers + lambda*CE."`
	TopP       float64  `default:"0.5" help:"Top Pass: fraction of a group's positives (highest-scored) paired."`
	TopQ       float64  `default:"0.5" help:"Top Pass: fraction of a group's negatives (highest-scored) paired."`
	Lambda     float64  `default:"0.3" help:"Weight of cross-entropy in toppass and rrtf."`
	AuxWeight  float64  `default:"0.2" help:"Weight of the fault heads (ternary, classes, error line) added to toppass/ce/rrtf."`
	Steps      int      `default:"1500" help:"Optimisation steps (one problem's group each)."`
	Group      int      `default:"16" help:"Candidates per step, from one problem."`
	LR         float64  `name:"lr" default:"0.001" help:"Peak learning rate (AdamW)."`
	Warmup     int      `default:"100" help:"Warm-up steps."`
	ValFrac    float64  `default:"0.1" help:"Fraction of problems held out for validation and early stopping."`
	ValEvery   int      `default:"250" help:"Validate every N steps."`
	Patience   int      `default:"3" help:"Stop after N validations without improvement (0: never)."`
	Seed       uint64   `default:"1" help:"Seed for sampling."`
	Backend    string   `default:"go" help:"GoMLX backend: go (pure Go, CPU) or, in a binary built with -tags xla, xla:cuda / xla:cpu."`
}

func (f *trainFlags) sets() ([]trainer.Set, error) {
	var out []trainer.Set
	for _, s := range f.Set {
		set, err := trainer.ParseSet(s)
		if err != nil {
			return nil, err
		}
		out = append(out, set)
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
	o.Loss = trainer.LossParams{Loss: f.Loss, TopP: f.TopP, TopQ: f.TopQ, Lambda: f.Lambda, AuxWeight: f.AuxWeight}
	o.Steps, o.GroupSize, o.LR, o.Warmup, o.ValEvery, o.Patience, o.Seed = f.Steps, f.Group, f.LR, f.Warmup, f.ValEvery, f.Patience, f.Seed
	o.Progress = os.Stderr
	return o
}

// tokenizer loads --tokenizer, or the one saved in dir (resume), or trains
// one on probs and saves it there.
func (f *trainFlags) tokenizer(dir string, probs []*trainer.Problem, vocab int) (*ranker.Tokenizer, error) {
	path := f.Tokenizer
	if path == "" {
		path = filepath.Join(dir, ranker.TokenizerFile)
	}
	if tok, err := ranker.LoadTokenizer(path); err == nil {
		return tok, nil
	} else if f.Tokenizer != "" {
		return nil, err
	}
	slog.Info("training the BPE tokenizer", "vocab", vocab)
	tok := trainer.TokenizerFor(probs, vocab)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return tok, tok.Save(path)
}

func loadSets(specs []trainer.Set, bad *dataset.ErrorLog) ([]*trainer.Problem, error) {
	probs, err := trainer.LoadSets(specs, bad)
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
	trainFlags
}

func (c *trainCmd) Run(ctx context.Context) error {
	specs, err := c.sets()
	if err != nil {
		return err
	}
	var bad dataset.ErrorLog
	probs, err := loadSets(specs, &bad)
	if err != nil {
		return err
	}
	o := c.options(c.ModelDir)
	tok, err := c.tokenizer(c.ModelDir, probs, o.Config.Vocab)
	if err != nil {
		return err
	}
	be, err := ranker.NewBackend(c.Backend)
	if err != nil {
		return err
	}
	train, val := trainer.SplitValidation(probs, c.ValFrac)
	_, err = trainer.Train(ctx, be, tok, o, train, val)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: checkpoint saved in %s; run the same command again to resume", c.ModelDir)
	}
	return err
}

type cvCmd struct {
	Dir   string   `required:"" help:"Output folder: fold-N/ (model, checkpoint, scores-S.jsonl per evaluated set S, numbered from 0 in --set order)."`
	Extra []string `help:"Training-only labelled sets (problems,candidates,labels), never evaluated (e.g. LeetCode)."`
	Folds int      `default:"5" help:"Number of problem-disjoint folds."`
	Fold  int      `default:"-1" help:"Run only this fold (to spread folds over processes); -1: all."`
	trainFlags
}

func (c *cvCmd) Run(ctx context.Context) error {
	specs, err := c.sets()
	if err != nil {
		return err
	}
	var extraSpecs []trainer.Set
	for _, s := range c.Extra {
		set, err := trainer.ParseSet(s)
		if err != nil {
			return err
		}
		extraSpecs = append(extraSpecs, set)
	}
	var bad dataset.ErrorLog
	probs, err := loadSets(specs, &bad)
	if err != nil {
		return err
	}
	extra, err := loadSets(extraSpecs, &bad)
	if err != nil {
		return err
	}
	for _, p := range extra {
		p.Set += len(specs)
	}
	o := c.options("")
	// One tokenizer for all folds. It sees no labels, so sharing it leaks
	// nothing about the held-out verdicts.
	tok, err := c.tokenizer(c.Dir, append(append([]*trainer.Problem(nil), probs...), extra...), o.Config.Vocab)
	if err != nil {
		return err
	}
	return trainer.CrossValidate(ctx, trainer.CVConfig{
		Sets: specs, Extra: extraSpecs, Folds: c.Folds, Only: c.Fold, Dir: c.Dir, ValFrac: c.ValFrac, Options: o,
		Backends: func() (backends.Backend, error) { return ranker.NewBackend(c.Backend) },
	}, probs, extra, tok)
}
