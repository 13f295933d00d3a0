package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/metrics"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/store"
)

// Evaluations: how well a model and a ranking method rank a set's
// labelled candidates. The dashboard shows them (ranked vs random vs
// oracle pass@k, the reliability of P(pass), two models side by side);
// they are computed in the background, after a set's labelling, after a
// fine-tune and when the model changes, and stored: a page reads them,
// it never ranks.

const jobEval = "eval"

// evalKs are the k of the pass@k curves.
const evalKs = 10

type evalParams struct {
	Set   int64  `json:"set"`
	Model string `json:"model,omitempty"` // "" the model in use when the job runs
}

// EvalSummary is a set's evaluation under a model and a method.
type EvalSummary struct {
	Problems   int `json:"problems"`   // labelled problems ranked
	Candidates int `json:"candidates"` // their labelled candidates
	// Ranked, Random and Oracle are pass@k in percent for k = 1..10:
	// the k best-ranked candidates, k drawn at random (unbiased
	// estimator), and a ranking that knows the labels.
	Ranked []float64 `json:"ranked"`
	Random []float64 `json:"random"`
	Oracle []float64 `json:"oracle"`
	// Calibration of the method's P(pass): the neural model's, or the
	// hybrid's from all the evidence (nil for a method without one).
	Calibration *metrics.Calibration `json:"calibration,omitempty"`
	Seconds     float64              `json:"seconds"`
}

// GapClosed is the share of the gap between random and oracle pass@1 that
// the ranking closes, in percent (0 when there is no gap).
func (e *EvalSummary) GapClosed() float64 {
	if len(e.Ranked) == 0 || e.Oracle[0]-e.Random[0] < 1e-9 {
		return 0
	}
	return 100 * (e.Ranked[0] - e.Random[0]) / (e.Oracle[0] - e.Random[0])
}

// queueEval queues evaluations of sets (every active set when none is
// given) under model ("" the model in use when it runs).
func (d *Daemon) queueEval(ctx context.Context, model string, sets ...int64) {
	if len(d.cfg.Dashboard.Methods) == 0 {
		return
	}
	if len(sets) == 0 {
		all, err := d.st.Sets(ctx)
		if err != nil {
			d.problem("cannot queue evaluations: %v", err)
			return
		}
		for _, s := range all {
			sets = append(sets, s.ID)
		}
	}
	for _, id := range sets {
		if _, _, err := d.st.AddJob(ctx, jobEval, store.PriorityEval, evalParams{Set: id, Model: model}, true); err != nil {
			d.problem("cannot queue an evaluation: %v", err)
		}
	}
	d.kick()
}

// evalModel returns the model to evaluate: the one in use, or one loaded
// for the job.
func (d *Daemon) evalModel(id string) (*ranker.Model, string, error) {
	cur, curID := d.models.get()
	if id == "" || id == curID {
		return cur, curID, nil
	}
	var m *ranker.Model
	var err error
	if id == shippedModel {
		m, err = ranker.LoadDefault(d.models.backend)
	} else {
		m, err = ranker.Load(d.models.backend, filepath.Join(d.paths.Models(), id))
	}
	if err != nil {
		return nil, "", fmt.Errorf("model %s: %w", id, err)
	}
	return m, id, nil
}

// runEval ranks every labelled problem of the job's set with each of the
// configured methods, stores each candidate's score and the set's
// summary. Rankings come from the rank cache when an editor (or an
// earlier evaluation) made them; its CPU slots are labelling's, below
// any client's request.
func (d *Daemon) runEval(ctx context.Context, j *store.Job) error {
	var p evalParams
	if err := json.Unmarshal(j.Params, &p); err != nil {
		return err
	}
	if _, err := d.st.SetByID(ctx, p.Set); err != nil {
		return nil // the set is no longer watched: nothing to do
	}
	model, modelID, err := d.evalModel(p.Model)
	if err != nil {
		return err
	}
	groups, err := d.labelledGroups(ctx, p.Set)
	if err != nil {
		return err
	}
	methods := d.cfg.Dashboard.Methods
	j.Total, j.Done = int64(len(groups)*len(methods)), 0
	ctx = withPriority(ctx, prioLabel)
	for _, method := range methods {
		start := time.Now()
		sum := &EvalSummary{Ranked: make([]float64, evalKs), Random: make([]float64, evalKs), Oracle: make([]float64, evalKs)}
		var ps []float64
		var passed []bool
		for _, g := range groups {
			prob, cands, labels := g.problem(), g.candidates(), g.labels()
			ranked, _, err := d.rankCached(ctx, &RankParams{Problem: prob, Candidates: cands, Method: method}, model, modelID)
			if err != nil {
				return fmt.Errorf("%s %s: %w", method, prob.TaskID, err)
			}
			ph := store.ProblemHash(prob)
			byIdx := map[int]*dataset.Candidate{}
			for _, c := range cands {
				byIdx[*c.Index] = c
			}
			scores := make([]store.Score, len(ranked))
			scored := make([]metrics.Scored, len(ranked))
			npass := 0
			for i, r := range ranked {
				l := labels[r.Index]
				ev := r
				ev.Code = ""
				data, _ := json.Marshal(ev)
				pp := r.PPass
				if method == "lexical" || method == "exec" {
					pp = -1
				} else {
					ps, passed = append(ps, r.PPass), append(passed, l.Passed)
				}
				scores[i] = store.Score{CandHash: store.CandidateHash(byIdx[r.Index]), Score: r.Score, PPass: pp, Rank: r.Rank, Data: data}
				scored[i] = metrics.Scored{Score: r.Score, Passed: l.Passed}
				if l.Passed {
					npass++
				}
			}
			if err := d.st.PutScores(ctx, p.Set, modelID, method, ph, scores); err != nil {
				return err
			}
			for k := 1; k <= evalKs; k++ {
				sum.Ranked[k-1] += metrics.RankedPassAtK(scored, k)
				sum.Random[k-1] += metrics.PassAtK(len(scored), npass, k)
				if npass > 0 {
					sum.Oracle[k-1]++
				}
			}
			sum.Problems++
			sum.Candidates += len(ranked)
			j.Done++
			d.st.Progress(ctx, j.ID, j.Done, j.Total)
			d.publishJob(j, "")
		}
		for k := range evalKs {
			n := float64(max(1, sum.Problems))
			sum.Ranked[k], sum.Random[k], sum.Oracle[k] = 100*sum.Ranked[k]/n, 100*sum.Random[k]/n, 100*sum.Oracle[k]/n
		}
		if len(ps) > 0 {
			sum.Calibration = metrics.Calibrate(ps, passed, 10)
		}
		sum.Seconds = time.Since(start).Seconds()
		data, _ := json.Marshal(sum)
		if err := d.st.PutEval(ctx, &store.Eval{SetID: p.Set, Model: modelID, Method: method, Data: data}); err != nil {
			return err
		}
		d.log.Info("evaluated", "set", p.Set, "model", modelID, "method", method, "problems", sum.Problems,
			"ranked_pass@1", metrics.Round2(sum.Ranked[0]), "random_pass@1", metrics.Round2(sum.Random[0]), "s", metrics.Round2(sum.Seconds))
	}
	return nil
}
