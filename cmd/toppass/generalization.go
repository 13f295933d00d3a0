package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/generalize"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/sandbox"
)

type generalizationCmd struct {
	Set             []string `required:"" sep:"none" help:"A labelled set, name[/max-candidates][:one-assert]=problems,candidates,labels|reference[,examples-problems[,generated-tests]] (repeat). Candidates with a 'model' field are split by generator; one-assert restates each prompt in MBPP's shape (description, one example assert, no signature; whole-program candidates only)."`
	ModelDir        string   `help:"The neural model to measure (default: the shipped one). It must not have trained on these problems or generators: say how it was trained with --model-note."`
	CrossFit        []string `help:"Instead of one model, two: DIR0,DIR1, each trained ('toppass train --half H') on one half of these sets' problems; the one trained on half 0 scores half 1's problems and the reverse (problems never seen; generators seen, unless the training left them out: say which with --model-note)."`
	NoModel         bool     `help:"Measure only the methods that need no model."`
	ModelNote       string   `help:"How the model was trained, printed above the tables."`
	Backend         string   `default:"go" help:"GoMLX backend."`
	MaxCands        int      `default:"0" help:"Keep the first N candidates per problem and generator (0: all)."`
	CacheDir        string   `help:"Keep probe results and static findings here and reuse them."`
	Out             string   `help:"Write the tables (Markdown) here too."`
	Workers         int      `default:"0" help:"Concurrent runs (0: one per CPU)."`
	SaveCalibration string   `help:"Also fit the hybrid's P(pass) model on every set's candidates and write it here (what hybrid/calibration.json ships; needs the model)."`
	Dump            string   `help:"Also write every group's evidence here (JSONL: labels, consensus, examples passed, behaviour, agreement, neural score, results on the probe calls), to study a method without running anything."`
	SelfInputs      int      `default:"24" help:"Inputs toppass makes per problem (the examples' inputs mutated by type, or drawn from type hints) for the behaviour evidence; 0: none."`
	sandboxFlags
}

func (c *generalizationCmd) Run(ctx context.Context) error {
	cfg := generalize.Config{Workers: c.Workers, Budget: c.Timeout, MaxCands: c.MaxCands, SelfInputs: c.SelfInputs, Progress: os.Stderr}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.NumCPU()
	}
	for _, s := range c.Set {
		sp, err := generalize.ParseSpec(s)
		if err != nil {
			return err
		}
		cfg.Specs = append(cfg.Specs, sp)
	}
	var bad dataset.ErrorLog
	cfg.OnError = bad.Add
	sb, err := sandbox.New(ctx, c.config())
	if err != nil {
		return err
	}
	defer sb.Close(ctx)
	cfg.SB = sb
	hasModel := !c.NoModel
	if hasModel {
		if err := c.loadModels(&cfg); err != nil {
			return err
		}
		an, err := newAnalyser(ctx, cfg.Workers, c.CacheDir)
		if err != nil {
			return err
		}
		defer an.Close(ctx)
		cfg.Analyse = an.All
	}
	if c.CacheDir != "" {
		pc, done, err := openProbeCache(c.CacheDir)
		if err != nil {
			return err
		}
		defer done()
		cfg.Cache = pc
	}
	groups, err := generalize.Load(ctx, cfg)
	if err != nil {
		return err
	}
	if bad.N > 0 {
		slog.Warn("bad input lines skipped", "n", bad.N, "first", bad.First[0].Error())
	}
	if c.Dump != "" {
		if err := dumpGroups(c.Dump, groups); err != nil {
			return err
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Generalization: ranked pass@1 and the share of the random-to-oracle gap closed, per set and generator.\n")
	if hasModel {
		fmt.Fprintf(&b, "Neural model: %s (%s).\n", c.modelName(), c.ModelNote)
	}
	for _, m := range generalize.Methods {
		if m.NeedsModel && !hasModel {
			continue
		}
		fmt.Fprintf(&b, "- %s: %s\n", m.Name, m.Note)
	}
	generalize.Markdown(&b, generalize.Evaluate(groups, hasModel))
	if c.SaveCalibration != "" {
		if !hasModel {
			return errors.New("--save-calibration needs the model (not --no-model)")
		}
		var sets []string
		for _, sp := range cfg.Specs {
			sets = append(sets, sp.Name)
		}
		cal, err := generalize.FitCalibration(groups, fmt.Sprintf("P(pass) from the evidence: fit by 'toppass generalization' on %s, each set and generator weighing the same; neural model: %s",
			strings.Join(sets, ", "), cmp.Or(c.ModelNote, c.modelName())))
		if err != nil {
			return err
		}
		if err := cal.Save(c.SaveCalibration); err != nil {
			return err
		}
		slog.Info("P(pass) calibration written", "out", c.SaveCalibration)
	}
	fmt.Print(b.String())
	if c.Out != "" {
		return os.WriteFile(c.Out, []byte(b.String()), 0o644)
	}
	return nil
}

// loadModels loads --model-dir (or the shipped model), or --cross-fit's two.
func (c *generalizationCmd) loadModels(cfg *generalize.Config) error {
	if len(c.CrossFit) == 0 {
		var err error
		cfg.Model, err = loadModel(c.Backend, c.ModelDir)
		return err
	}
	if len(c.CrossFit) != 2 || c.ModelDir != "" {
		return errors.New("--cross-fit takes two model directories (trained on half 0, on half 1), and not with --model-dir")
	}
	cfg.CrossFit = new([2]*ranker.Model)
	for h, dir := range c.CrossFit {
		m, err := loadModel(c.Backend, dir)
		if err != nil {
			return err
		}
		cfg.CrossFit[h] = m
	}
	return nil
}

func (c *generalizationCmd) modelName() string {
	if len(c.CrossFit) == 2 {
		return fmt.Sprintf("cross-fit: %s (trained on half 0) scores half 1, %s the reverse", c.CrossFit[0], c.CrossFit[1])
	}
	return cmp.Or(c.ModelDir, "the shipped model")
}

func dumpGroups(path string, groups []*generalize.Group) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := generalize.Dump(f, groups); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
