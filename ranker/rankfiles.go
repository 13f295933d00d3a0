package ranker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/progress"
)

// ScoreLine is one line of a neural scores file: the score (P(pass)) and
// the predicted fault.
type ScoreLine struct {
	TaskID string `json:"task_id"`
	Index  int    `json:"index"`
	Prediction
}

// Analyse returns the static analysis of a problem's candidates.
type Analyse func(ctx context.Context, p *dataset.Problem, cands []*dataset.Candidate) ([]Static, error)

// ProblemCandidates reads a problems file and a candidates file and returns
// the candidates grouped by problem, in the order problems first appear
// among the candidates. Bad lines go to errs (file:line); candidates of
// unknown problems are reported there too.
func ProblemCandidates(problemsPath, candidatesPath string, errs *dataset.ErrorLog) (map[string]*dataset.Problem, []string, map[string][]*dataset.Candidate, error) {
	probs, _, err := dataset.ReadProblems(problemsPath, errs.Add)
	if err != nil {
		return nil, nil, nil, err
	}
	var order []string
	byTask := map[string][]*dataset.Candidate{}
	err = dataset.ReadCandidates(candidatesPath, func(c *dataset.Candidate) error {
		if probs[c.TaskID] == nil {
			return errs.Add(&dataset.LineError{File: c.File, Line: c.Line, Err: fmt.Errorf("unknown task_id %q", c.TaskID)})
		}
		if byTask[c.TaskID] == nil {
			order = append(order, c.TaskID)
		}
		byTask[c.TaskID] = append(byTask[c.TaskID], c)
		return nil
	}, errs.Add)
	return probs, order, byTask, err
}

// Codes returns the candidates' code.
func Codes(cands []*dataset.Candidate) []string {
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i], _ = c.Code()
	}
	return out
}

// RankFiles scores every candidate of candidatesPath with m and writes one
// ScoreLine per candidate to out. lexical scores by the unsupervised
// lexical consensus alone (set feature 0: mean bigram Jaccard similarity to
// the siblings), a baseline that needs no training.
//
// analyse, when not nil, gives the candidates' static analysis (package
// static); the shipped model was trained with it.
func RankFiles(ctx context.Context, m *Model, problemsPath, candidatesPath, out string, lexical bool, analyse Analyse, progressTo io.Writer) error {
	var errs dataset.ErrorLog
	probs, order, byTask, err := ProblemCandidates(problemsPath, candidatesPath, &errs)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	var bar *progress.Bar
	if progressTo != nil {
		bar = progress.New(progressTo, "rank", int64(len(order)), nil)
		defer bar.Done()
	}
	start := time.Now()
	n := 0
	for _, id := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		cands := byTask[id]
		var preds []Prediction
		if lexical {
			preds = Lexical(m, probs[id], cands)
		} else if preds, err = Score(ctx, m, analyse, probs[id], cands); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		for i, p := range preds {
			if err := enc.Encode(ScoreLine{TaskID: id, Index: cands[i].Key().Index, Prediction: p}); err != nil {
				return err
			}
		}
		n += len(preds)
		if bar != nil {
			bar.Add(1)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	slog.Info("ranked", "problems", len(order), "candidates", n, "seconds", time.Since(start).Seconds(), "out", out)
	return errs.Err()
}

// Score predicts, for one problem's candidates in memory, P(pass) and the
// fault of each: static analysis (when analyse is set), then the model.
func Score(ctx context.Context, m *Model, analyse Analyse, p *dataset.Problem, cands []*dataset.Candidate) ([]Prediction, error) {
	var statics []Static
	if analyse != nil {
		var err error
		if statics, err = analyse(ctx, p, cands); err != nil {
			return nil, err
		}
	}
	codes := Codes(cands)
	preds, err := m.Predict(m.Encode(ProblemText(p), codes, statics))
	if err == nil && m.Config.ConsensusBeta != nil {
		Anchor(preds, SimpleConsensus(codes), *m.Config.ConsensusBeta)
	}
	return preds, err
}

// Anchor makes each prediction's Score its candidate's plain lexical
// consensus (cons: SimpleConsensus of the candidates) plus beta times its
// neural logit, both z-scored among the candidates. P(pass) stays in
// PPass.
func Anchor(preds []Prediction, cons []float64, beta float64) {
	cons = zscores(cons)
	lg := make([]float64, len(preds))
	for i, p := range preds {
		q := math.Min(1-1e-6, math.Max(1e-6, p.PPass))
		lg[i] = math.Log(q / (1 - q))
	}
	lg = zscores(lg)
	for i := range preds {
		preds[i].Score = cons[i] + beta*lg[i]
	}
}

// Lexical scores candidates by the unsupervised lexical consensus alone
// (set feature 0: mean bigram Jaccard similarity to the siblings).
func Lexical(m *Model, p *dataset.Problem, cands []*dataset.Candidate) []Prediction {
	g := m.Encode(ProblemText(p), Codes(cands), nil)
	preds := make([]Prediction, len(g.Feats))
	for i, f := range g.Feats {
		preds[i] = Prediction{Score: float64(f[0])}
	}
	return preds
}
