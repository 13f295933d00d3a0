package hybrid

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/internal/progress"
	"github.com/toppass/toppass/ranker"
)

// Config is a hybrid ranking job.
type Config struct {
	Exec    execrank.RankConfig // problems, candidates, tests, examples, sandbox
	Model   *ranker.Model
	Analyse ranker.Analyse
	Fusion  *Fusion // nil: the rule
	// Calibration is the P(pass) model (nil: the shipped one, Calibration).
	Calibration *Fusion
	Out         string
	Progress    io.Writer
}

// ScoreLine is one line of hybrid scores: the fused score and the evidence.
type ScoreLine struct {
	TaskID string  `json:"task_id"`
	Index  int     `json:"index"`
	Score  float64 `json:"score"`
	Neural float64 `json:"neural"`
	// PPass is the probability of passing given all the evidence
	// (Calibration); Neural is the model's alone.
	PPass          float64 `json:"p_pass"`
	Fault          string  `json:"fault,omitempty"`
	ErrorLine      int     `json:"error_line,omitempty"`
	ExamplesPassed int     `json:"examples_passed"`
	Examples       int     `json:"examples"`
	TestsPassed    int     `json:"tests_passed"`
	Tests          int     `json:"tests"`
	Agreement      float64 `json:"agreement"`
	Cluster        int     `json:"cluster"`
	Behaviour      float64 `json:"behaviour,omitempty"`
	Inputs         int     `json:"inputs,omitempty"`
	// Features are what the rule and P(pass) were computed from
	// (FeatureNames), for a refit on labels (Refit).
	Features []float64 `json:"-"`
}

// Rank runs the execution probes and the neural ranker and writes fused
// scores.
func Rank(ctx context.Context, cfg Config) error {
	start := time.Now()
	exec, order, err := execrank.Features(ctx, cfg.Exec)
	if err != nil {
		return err
	}
	var errs dataset.ErrorLog
	probs, _, byTask, err := ranker.ProblemCandidates(cfg.Exec.Problems, cfg.Exec.Candidates, &errs)
	if err != nil {
		return err
	}
	f, err := os.Create(cfg.Out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	var bar *progress.Bar
	if cfg.Progress != nil {
		bar = progress.New(cfg.Progress, "rank hybrid (neural)", int64(len(order)), nil)
	}
	for _, id := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		scores, err := Score(ctx, cfg.Model, cfg.Analyse, cfg.Fusion, cfg.Calibration, probs[id], byTask[id], exec[id])
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		for _, sl := range scores {
			enc.Encode(sl)
		}
		if bar != nil {
			bar.Add(1)
		}
	}
	if bar != nil {
		bar.Done()
	}
	if err := w.Flush(); err != nil {
		return err
	}
	slog.Info("hybrid scores written", "out", cfg.Out, "problems", len(order), "fusion", cfg.Fusion != nil, "elapsed", time.Since(start).Round(time.Millisecond))
	return errs.Err()
}

// Score fuses the neural ranker's prediction for one problem's candidates
// with their execution evidence (lines, in candidate order, from
// execrank.Evidence or execrank.Features): by fusion, or by the rule when
// fusion is nil; P(pass) from cal (nil: the shipped Calibration). In
// memory: the daemon's and the CLI's one way to score.
func Score(ctx context.Context, m *ranker.Model, analyse ranker.Analyse, fusion, cal *Fusion, p *dataset.Problem,
	cands []*dataset.Candidate, lines []execrank.ScoreLine) ([]ScoreLine, error) {
	if len(lines) != len(cands) {
		return nil, fmt.Errorf("%d execution results for %d candidates", len(lines), len(cands))
	}
	preds, err := ranker.Score(ctx, m, analyse, p, cands)
	if err != nil {
		return nil, err
	}
	if cal == nil {
		if cal, err = Calibration(); err != nil {
			return nil, err
		}
	}
	feats := Features(preds, lines, ranker.SimpleConsensus(ranker.Codes(cands)))
	out := make([]ScoreLine, len(cands))
	for i, x := range feats {
		s := Rule(x)
		if fusion != nil {
			s = fusion.Score(x)
		}
		e := lines[i]
		out[i] = ScoreLine{TaskID: p.TaskID, Index: cands[i].Key().Index, Score: s, Neural: preds[i].PPass, PPass: cal.PPass(x), Fault: preds[i].Fault, ErrorLine: preds[i].ErrorLine,
			ExamplesPassed: e.ExamplesPassed, Examples: e.Examples, TestsPassed: e.Passed, Tests: e.Tests, Agreement: e.Agreement, Cluster: e.Cluster,
			Behaviour: e.Behaviour, Inputs: e.Inputs, Features: x}
	}
	return out, nil
}
