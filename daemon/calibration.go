package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/hybrid"
	"github.com/toppass/toppass/store"
)

// P(pass) refit to the user's generator.
//
// The P(pass) the editor shows is the hybrid's calibration, fit on public
// benchmarks and their generators. A user's generator is right more or less
// often than those were, and where prompts state no examples the shipped
// calibration cannot tell (docs/benchmarks.md: expected calibration error
// 0.4–0.5 on example-free prompts). The user's labelled problems can: after
// enough new ones, a job refits the shipped calibration to their level
// (hybrid.Refit: two parameters, so a few dozen problems suffice), keeps
// the refit only if it predicts a held-out ~30 % of those problems better
// than the shipped one (cross-entropy), then refits on all of them. Orders
// are untouched: only P(pass) changes. A calibration file named in the
// configuration turns this off.

const jobCalibrate = "calibrate"

// passModel is the P(pass) model in use and its id (in every hybrid
// ranking's cache key).
type passModel struct {
	fusion *hybrid.Fusion // nil: the shipped one
	id     string
}

// passRefit is what the last refit did (kept in the store's meta).
type passRefit struct {
	ID          string  `json:"id"` // the refit model's id ("" when refused)
	Problems    int     `json:"problems"`
	ValProblems int     `json:"val_problems"`
	LossShipped float64 `json:"val_log_loss_shipped"`
	LossRefit   float64 `json:"val_log_loss_refit"`
	Accepted    bool    `json:"accepted"`
	Reason      string  `json:"reason"`
	Time        int64   `json:"time"` // unix ms
}

const (
	metaPassRefit         = "pass_refit"
	metaPassRefitProblems = "pass_refit_problems"
	passRefitValFrac      = 0.3
)

// initPass sets the P(pass) model at start: the configured file, else the
// last accepted refit, else the shipped one.
func (d *Daemon) initPass() {
	if d.cfg.calibration != nil {
		d.pass.Store(&passModel{d.cfg.calibration, d.cfg.calibration.ID()})
		return
	}
	d.pass.Store(&passModel{nil, hybrid.CalibrationID()})
	if !d.cfg.PassRefit.Enabled {
		return
	}
	m, err := hybrid.Load(d.paths.PassRefit())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		d.problem("P(pass) refit %s not used: %v", d.paths.PassRefit(), err)
	default:
		d.pass.Store(&passModel{m, m.ID()})
		d.log.Info("P(pass) refit to your generator in use", "file", d.paths.PassRefit(), "note", m.Note)
	}
}

// passCalibration is the P(pass) model the hybrid's rankings use now.
func (d *Daemon) passCalibration() *passModel { return d.pass.Load() }

// passSummary says which P(pass) model is in use (status).
func (d *Daemon) passSummary() string {
	pm := d.passCalibration()
	switch {
	case d.cfg.calibration != nil:
		return "from " + d.cfg.Calibration
	case pm.fusion != nil:
		return pm.fusion.Note
	}
	return "shipped"
}

// maybeRefitPass queues a refit when enough problems were labelled since
// the last one.
func (d *Daemon) maybeRefitPass(ctx context.Context) {
	if !d.cfg.PassRefit.Enabled || d.cfg.calibration != nil {
		return
	}
	have, err := d.st.LabelledProblems(ctx, d.env, 0)
	if err != nil {
		d.problem("P(pass) refit policy: %v", err)
		return
	}
	base, _ := d.st.Meta(ctx, metaPassRefitProblems)
	n, _ := strconv.Atoi(base)
	if have-n < d.cfg.PassRefit.MinNewProblems {
		return
	}
	if _, added, err := d.st.AddJob(ctx, jobCalibrate, store.PriorityEval+1, struct{}{}, true); err != nil {
		d.problem("cannot queue a P(pass) refit: %v", err)
	} else if added {
		d.log.Info("P(pass) refit queued", "new_problems", have-n)
		d.kick()
	}
}

// labelledGroup is one labelled problem of a watched set.
type labelledGroup struct {
	key  string // set:task
	rows []*store.TrainingRow
}

func (g *labelledGroup) problem() *dataset.Problem { return g.rows[0].Problem }

func (g *labelledGroup) candidates() []*dataset.Candidate {
	out := make([]*dataset.Candidate, len(g.rows))
	for i, r := range g.rows {
		out[i] = r.Candidate
	}
	return out
}

// labels maps each candidate's index to its label.
func (g *labelledGroup) labels() map[int]*dataset.Label {
	out := make(map[int]*dataset.Label, len(g.rows))
	for _, r := range g.rows {
		out[*r.Candidate.Index] = r.Label
	}
	return out
}

// labelledGroups is every problem with labelled candidates of the watched
// sets (of set setID only, unless 0), its rows in candidate order.
func (d *Daemon) labelledGroups(ctx context.Context, setID int64) ([]*labelledGroup, error) {
	rows, err := d.st.TrainingRows(ctx, d.env, setID)
	if err != nil {
		return nil, err
	}
	var out []*labelledGroup
	for _, r := range rows {
		key := fmt.Sprint(r.SetID) + ":" + r.Problem.TaskID
		if len(out) == 0 || out[len(out)-1].key != key {
			out = append(out, &labelledGroup{key: key})
		}
		g := out[len(out)-1]
		g.rows = append(g.rows, r)
	}
	return out, nil
}

// runCalibrate refits P(pass) on the user's labelled problems: each
// problem's candidates ranked by the hybrid (from the rank cache when an
// evaluation or an editor ranked them), the refit fit on ~70 % of the
// problems and measured on the rest against the shipped model, then, if
// it does better, fit on all of them and put in use.
func (d *Daemon) runCalibrate(ctx context.Context, j *store.Job) error {
	groups, err := d.labelledGroups(ctx, 0)
	if err != nil {
		return err
	}
	model, modelID := d.models.get()
	ctx = withPriority(ctx, prioLabel)
	j.Total, j.Done = int64(len(groups)), 0
	var train, val, all []hybrid.Labelled
	for _, g := range groups {
		labels := g.labels()
		ranked, _, err := d.rankCached(ctx, &RankParams{Problem: g.problem(), Candidates: g.candidates(), Method: "hybrid"}, model, modelID)
		if err != nil {
			return fmt.Errorf("%s: %w", g.key, err)
		}
		l := hybrid.Labelled{Weight: 1}
		for _, r := range ranked {
			if len(r.Features) != len(hybrid.FeatureNames) {
				return fmt.Errorf("%s: a ranking without its features", g.key)
			}
			l.X, l.Passed = append(l.X, r.Features), append(l.Passed, labels[r.Index].Passed)
		}
		all = append(all, l)
		// A stable split: a problem stays on its side as more come.
		if h := store.Hash(g.key); float64(hexByte(h))/256 < passRefitValFrac {
			val = append(val, l)
		} else {
			train = append(train, l)
		}
		j.Done++
		if j.Done%10 == 0 {
			d.st.Progress(ctx, j.ID, j.Done, j.Total)
			d.publishJob(j, "")
		}
	}
	shipped, err := hybrid.Calibration()
	if err != nil {
		return err
	}
	rec := passRefit{Problems: len(all), ValProblems: len(val), Time: time.Now().UnixMilli()}
	fit, err := hybrid.Refit(shipped, train, "")
	switch {
	case len(val) == 0:
		rec.Reason = fmt.Sprintf("refused: none of the %d labelled problems fell on the held-out side", len(all))
	case err != nil:
		rec.Reason = "refused: " + err.Error()
	default:
		rec.LossShipped, rec.LossRefit = hybrid.LogLoss(shipped, val), hybrid.LogLoss(fit, val)
		if rec.LossRefit < rec.LossShipped {
			rec.Accepted = true
			rec.Reason = fmt.Sprintf("held-out log-loss %.4f < %.4f of the shipped P(pass)", rec.LossRefit, rec.LossShipped)
		} else {
			rec.Reason = fmt.Sprintf("refused: held-out log-loss %.4f >= %.4f of the shipped P(pass)", rec.LossRefit, rec.LossShipped)
		}
	}
	next := &passModel{nil, hybrid.CalibrationID()}
	if rec.Accepted {
		note := fmt.Sprintf("the shipped P(pass) refit on %d labelled problems of your own (%s)", len(all), time.Now().UTC().Format(time.RFC3339))
		final, err := hybrid.Refit(shipped, all, note)
		if err != nil {
			return err
		}
		if err := saveAtomic(d.paths.PassRefit(), final); err != nil {
			return err
		}
		rec.ID = final.ID()
		next = &passModel{final, rec.ID}
	} else if err := os.Remove(d.paths.PassRefit()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	d.pass.Store(next)
	raw, _ := json.Marshal(rec)
	if err := d.st.SetMeta(ctx, metaPassRefit, string(raw)); err != nil {
		return err
	}
	if err := d.st.SetMeta(ctx, metaPassRefitProblems, strconv.Itoa(len(all))); err != nil {
		return err
	}
	d.log.Info("P(pass) refit", "accepted", rec.Accepted, "problems", len(all), "val_problems", len(val), "reason", rec.Reason)
	return nil
}

// hexByte is the first byte of a hex digest.
func hexByte(h string) int {
	v, _ := strconv.ParseUint(h[:2], 16, 8)
	return int(v)
}

// saveAtomic writes m to path through a temporary file and a rename, so a
// crash leaves the old file or the new one.
func saveAtomic(path string, m *hybrid.Fusion) error {
	tmp := path + ".tmp"
	if err := m.Save(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
