package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/store"
	"github.com/toppass/toppass/trainer"
)

// shippedModel is the id of the model embedded in the binary.
const shippedModel = "shipped"

// models holds the ranker model in use and fine-tunes new ones.
type models struct {
	d        *Daemon
	backend  backends.Backend
	mu       sync.RWMutex
	id       string
	m        *ranker.Model
	training atomic.Bool
}

func openModels(ctx context.Context, d *Daemon) (*models, error) {
	backend, err := openBackend(d.cfg.Finetune.Backend)
	if err != nil {
		return nil, err
	}
	ms := &models{d: d, backend: backend}
	known, err := d.st.Models(ctx)
	if err != nil {
		return nil, err
	}
	if len(known) == 0 {
		if err := d.st.PutModel(ctx, &store.Model{ID: shippedModel, Accepted: true, Reason: "shipped with toppass"}); err != nil {
			return nil, err
		}
	}
	cur, err := d.st.Meta(ctx, "model")
	if err != nil {
		return nil, err
	}
	if cur == "" {
		cur = shippedModel
	}
	if err := ms.load(ctx, cur); err != nil {
		d.problem("model %s cannot be loaded (%v); using the shipped model", cur, err)
		if err := ms.load(ctx, shippedModel); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// openBackend opens the GoMLX backend: "auto" takes XLA on a GPU when the
// binary has it and a GPU answers, else the pure Go CPU backend.
func openBackend(spec string) (backends.Backend, error) {
	if spec == "" || spec == "auto" {
		if b, err := ranker.NewBackend("xla:cuda"); err == nil {
			return b, nil
		}
		spec = "go"
	}
	return ranker.NewBackend(spec)
}

func (ms *models) load(ctx context.Context, id string) error {
	var m *ranker.Model
	var err error
	if id == shippedModel {
		m, err = ranker.LoadDefault(ms.backend)
	} else {
		m, err = ranker.Load(ms.backend, filepath.Join(ms.d.paths.Models(), id))
	}
	if err != nil {
		return err
	}
	ms.mu.Lock()
	ms.id, ms.m = id, m
	ms.mu.Unlock()
	return ms.d.st.SetMeta(ctx, "model", id)
}

func (ms *models) get() (*ranker.Model, string) {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	return ms.m, ms.id
}

func (ms *models) currentID() string {
	_, id := ms.get()
	return id
}

// use switches to model id (toppass model use).
func (ms *models) use(ctx context.Context, id string) error {
	if err := ms.d.st.UseModel(ctx, id); err != nil {
		return badParams("%v", err)
	}
	if err := ms.load(ctx, id); err != nil {
		return err
	}
	ms.d.log.Info("model in use", "model", id)
	ms.d.queueEval(ctx, id)
	return nil
}

type trainParams struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// maybeFinetune queues a fine-tune when the policy says enough new
// problems have been labelled since the last one.
func (d *Daemon) maybeFinetune(ctx context.Context) {
	if !d.cfg.Finetune.Enabled {
		return
	}
	probs, err := d.userProblems(ctx)
	if err != nil {
		d.problem("fine-tune policy: %v", err)
		return
	}
	base, _ := d.st.Meta(ctx, "finetune_problems")
	n, _ := strconv.Atoi(base)
	if len(probs)-n < d.cfg.Finetune.MinNewProblems {
		return
	}
	if _, added, err := d.st.AddJob(ctx, jobTrain, store.PriorityTrain,
		trainParams{Reason: fmt.Sprintf("%d new labelled problems", len(probs)-n)}, true); err != nil {
		d.problem("cannot queue a fine-tune: %v", err)
	} else if added {
		d.log.Info("fine-tune queued", "new_problems", len(probs)-n)
		d.kick()
	}
}

// userProblems gathers the user's labelled problems that can teach a
// ranker something: at least one passing and one failing candidate.
func (d *Daemon) userProblems(ctx context.Context) ([]*trainer.Problem, error) {
	groups, err := d.labelledGroups(ctx, 0)
	if err != nil {
		return nil, err
	}
	var out []*trainer.Problem
	for _, lg := range groups {
		g := &trainer.Problem{TaskID: lg.key, Text: ranker.ProblemText(lg.problem())}
		for _, r := range lg.rows {
			code, _ := r.Candidate.Code()
			g.Rows = append(g.Rows, trainer.MakeRow(r.Candidate.Key(), code, r.Label))
		}
		if pass := g.Passes(); pass == 0 || pass == len(g.Rows) {
			continue
		}
		st, err := d.an.All(ctx, lg.problem(), lg.candidates())
		if err != nil {
			return nil, err
		}
		for i := range g.Rows {
			g.Rows[i].Static = st[i]
		}
		out = append(out, g)
	}
	return out, nil
}

// runTrain fine-tunes the current model on the user's problems (plus the
// replay slice) and keeps the result only if validation ranked pass@1 on
// held-out user problems does not drop. A killed run resumes from its
// checkpoint: the job's model id names its folder.
func (d *Daemon) runTrain(ctx context.Context, j *store.Job) error {
	var p trainParams
	if err := json.Unmarshal(j.Params, &p); err != nil {
		return err
	}
	if p.ID == "" {
		p.ID = "ft-" + time.Now().UTC().Format("20060102-150405")
		raw, _ := json.Marshal(p)
		j.Params = raw
		if err := d.st.SetJobParams(ctx, j.ID, raw); err != nil {
			return err
		}
	}
	d.models.training.Store(true)
	defer d.models.training.Store(false)
	probs, err := d.userProblems(ctx)
	if err != nil {
		return err
	}
	train, val := trainer.SplitValidation(probs, 0.3)
	if len(train) == 0 || len(val) == 0 {
		return fmt.Errorf("fine-tune needs labelled problems with both passing and failing candidates on both sides of a problem-disjoint split; have %d", len(probs))
	}
	replay, err := d.replayProblems(ctx)
	if err != nil {
		return err
	}
	cur, curID := d.models.get()
	trainer.Encode(cur, val)
	before, err := trainer.Validate(cur, val)
	if err != nil {
		return err
	}
	dir := filepath.Join(d.paths.Models(), p.ID)
	opts := trainer.DefaultOptions
	opts.ModelDir, opts.Config, opts.Init = dir, cur.Config, cur
	opts.ResumeOnOtherData = true // a run resumed after a restart trains on the labels there are now
	opts.Steps = d.cfg.Finetune.Steps
	opts.LR, opts.Warmup = 3e-4, min(20, opts.Steps/5)
	opts.ValEvery, opts.Patience = max(1, opts.Steps/3), 0
	opts.CheckpointEvery = max(1, min(opts.CheckpointEvery, opts.Steps/5))
	opts.BeforeStep = func(ctx context.Context) error {
		// Never hold up a ranking: wait while one waits for the CPU.
		for d.cpu.rankWaiting() && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		j.Done++
		if j.Done%10 == 0 {
			d.st.Progress(ctx, j.ID, j.Done, int64(opts.Steps))
			d.publishJob(j, "")
		}
		return nil
	}
	j.Total = int64(opts.Steps)
	d.log.Info("fine-tune", "model", p.ID, "from", curID, "train_problems", len(train), "replay_problems", len(replay),
		"val_problems", len(val), "val_pass@1_before", before)
	m, err := trainer.Train(ctx, d.models.backend, cur.Tok, opts, append(train, replay...), val)
	if err != nil {
		return err
	}
	trainer.Encode(m, val)
	after, err := trainer.Validate(m, val)
	if err != nil {
		return err
	}
	metrics, _ := json.Marshal(map[string]any{"val_pass@1_before": before, "val_pass@1_after": after,
		"train_problems": len(train), "replay_problems": len(replay), "val_problems": len(val), "steps": opts.Steps})
	rec := &store.Model{ID: p.ID, Parent: curID, Dir: dir, Metrics: metrics}
	if after >= before {
		rec.Accepted, rec.Reason = true, fmt.Sprintf("validation ranked pass@1 %.2f >= %.2f of %s", after, before, curID)
	} else {
		rec.Reason = fmt.Sprintf("refused: validation ranked pass@1 %.2f < %.2f of %s", after, before, curID)
	}
	if err := d.st.PutModel(ctx, rec); err != nil {
		return err
	}
	d.st.SetMeta(ctx, "finetune_problems", strconv.Itoa(len(probs)))
	d.log.Info("fine-tune finished", "model", p.ID, "accepted", rec.Accepted, "reason", rec.Reason)
	if rec.Accepted {
		return d.models.use(ctx, p.ID)
	}
	d.queueEval(ctx, p.ID)
	return nil
}

// replayProblems is the fixed slice of training data mixed into every
// fine-tune so that the model does not forget what it learnt: the first
// ReplayProblems problems (by a stable hash) of the labelled sets that
// finetune.replay names ("problems,candidates,labels", e.g. the shared
// data the shipped model was trained on).
func (d *Daemon) replayProblems(ctx context.Context) ([]*trainer.Problem, error) {
	if len(d.cfg.Finetune.Replay) == 0 || d.cfg.Finetune.ReplayProblems == 0 {
		return nil, nil
	}
	var sets []trainer.Set
	for _, s := range d.cfg.Finetune.Replay {
		set, err := trainer.ParseSet(s)
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	var bad dataset.ErrorLog
	probs, err := trainer.LoadSets(ctx, sets, d.an.All, &bad)
	if err != nil {
		return nil, err
	}
	sort.Slice(probs, func(i, j int) bool { return store.Hash(probs[i].TaskID) < store.Hash(probs[j].TaskID) })
	if len(probs) > d.cfg.Finetune.ReplayProblems {
		probs = probs[:d.cfg.Finetune.ReplayProblems]
	}
	return probs, nil
}
