package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/workpool"
	"github.com/toppass/toppass/store"
)

// Job kinds.
const (
	jobLabel = "label"
	jobTrain = "train"
)

type labelParams struct {
	Set int64 `json:"set"`
}

// runJobs runs queued jobs until ctx ends: labelling on one runner,
// training on another (at the lowest CPU priority), so that a long
// fine-tune never holds up new labels.
func (d *Daemon) runJobs(ctx context.Context) {
	var wg sync.WaitGroup
	trainWake := make(chan struct{}, 1)
	wg.Add(2)
	go func() {
		defer wg.Done()
		d.runner(ctx, d.wake, trainWake, jobLabel, jobEval, jobCalibrate)
	}()
	go func() {
		defer wg.Done()
		background(trainNice)
		d.runner(ctx, trainWake, nil, jobTrain)
	}()
	wg.Wait()
}

func (d *Daemon) runner(ctx context.Context, wake <-chan struct{}, also chan<- struct{}, kinds ...string) {
	for ctx.Err() == nil {
		j, err := d.st.NextJob(ctx, kinds...)
		if err != nil {
			if ctx.Err() == nil {
				d.problem("job queue: %v", err)
				time.Sleep(time.Second)
			}
			continue
		}
		if j == nil {
			select {
			case <-wake:
				if also != nil {
					select {
					case also <- struct{}{}:
					default:
					}
				}
			case <-time.After(2 * time.Second):
			case <-ctx.Done():
			}
			continue
		}
		d.log.Info("job started", "job", j.ID, "kind", j.Kind)
		d.publishJob(j, "")
		var jerr error
		switch j.Kind {
		case jobLabel:
			jerr = d.runLabel(ctx, j)
		case jobTrain:
			jerr = d.runTrain(ctx, j)
		case jobEval:
			jerr = d.runEval(ctx, j)
		case jobCalibrate:
			jerr = d.runCalibrate(ctx, j)
		default:
			jerr = fmt.Errorf("unknown job kind %q", j.Kind)
		}
		state, msg := store.JobDone, ""
		switch {
		case ctx.Err() != nil:
			// Stopping: the job stays running in the store and is queued
			// again at the next start, where it resumes.
			d.log.Info("job interrupted; it resumes at the next start", "job", j.ID, "kind", j.Kind)
			return
		case jerr != nil:
			state, msg = store.JobFailed, shortErr(jerr)
			d.problem("job %d (%s) failed: %v", j.ID, j.Kind, jerr)
		}
		if err := d.st.FinishJob(context.Background(), j.ID, state, msg); err != nil {
			d.problem("job queue: %v", err)
		}
		j.State, j.Error = state, msg
		d.publishJob(j, msg)
		d.log.Info("job finished", "job", j.ID, "kind", j.Kind, "state", state)
	}
}

func (d *Daemon) publishJob(j *store.Job, note string) {
	d.hub.publish(NotifyProgress, Progress{Job: j.ID, Kind: j.Kind, State: j.State, Done: j.Done, Total: j.Total, Note: note}, false)
}

// runLabel labels every pending candidate of the job's set. A producer
// walks the pending candidates in id order, the workers label them (each
// run holding a CPU slot), and this goroutine commits the labels every
// labelCommitEvery or labelCommitSize, whichever comes first: a crash loses
// at most that much, and the next start resumes at the first unlabelled
// candidate. A slow candidate holds up only its own worker.
func (d *Daemon) runLabel(ctx context.Context, j *store.Job) error {
	var p labelParams
	if err := json.Unmarshal(j.Params, &p); err != nil {
		return err
	}
	for {
		total, err := d.st.CountPending(ctx, p.Set, d.env)
		if err != nil {
			return err
		}
		if total == 0 {
			break
		}
		j.Total = j.Done + int64(total)
		if err := d.labelPass(ctx, j, p.Set); err != nil {
			return err
		}
	}
	d.st.Progress(ctx, j.ID, j.Done, j.Done)
	j.Total = j.Done
	d.maybeFinetune(ctx)
	d.queueEval(ctx, "", p.Set)
	d.maybeRefitPass(ctx)
	return nil
}

const (
	labelCommitEvery = 100 * time.Millisecond
	labelCommitSize  = 64
	labelNice        = 5  // labelling threads' priority: below requests
	trainNice        = 10 // training's: below labelling
)

// labelPass labels the candidates pending at its start, in id order.
func (d *Daemon) labelPass(ctx context.Context, j *store.Job, setID int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	todo := make(chan *store.Pending, 2*d.cfg.Workers)
	done := make(chan store.Labelled, labelCommitSize)
	var perr error
	go func() {
		defer close(todo)
		var after int64
		// Identical candidates share one label: run each content once.
		sent := map[[2]string]bool{}
		for {
			batch, err := d.st.PendingAfter(ctx, setID, d.env, after, labelCommitSize)
			if err != nil || len(batch) == 0 {
				if ctx.Err() == nil {
					perr = err
				}
				return
			}
			for _, pd := range batch {
				after = pd.CandID
				k := [2]string{pd.ProblemHash, pd.CandHash}
				if sent[k] {
					continue
				}
				sent[k] = true
				select {
				case todo <- pd:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	var werr error
	var once sync.Once
	for range d.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			background(labelNice)
			for pd := range todo {
				release, err := d.cpu.acquire(ctx, prioLabel)
				if err != nil {
					return
				}
				l, err := d.lb.Label(ctx, pd.Problem, pd.Candidate)
				release()
				if err != nil {
					if ctx.Err() == nil {
						once.Do(func() { werr = err })
					}
					cancel()
					return
				}
				select {
				case done <- store.Labelled{ProblemHash: pd.ProblemHash, CandHash: pd.CandHash, Label: l}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	var buf []store.Labelled
	lastProgress := time.Now()
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		// Committed even when stopping: the work is done.
		if err := d.st.PutLabels(context.Background(), d.env, buf); err != nil {
			return err
		}
		d.labels.Add(int64(len(buf)))
		j.Done += int64(len(buf))
		j.Total = max(j.Total, j.Done)
		buf = buf[:0]
		if time.Since(lastProgress) > 200*time.Millisecond {
			lastProgress = time.Now()
			d.st.Progress(context.Background(), j.ID, j.Done, j.Total)
			d.publishJob(j, "")
		}
		return nil
	}
	tick := time.NewTicker(labelCommitEvery)
	defer tick.Stop()
	for {
		select {
		case l, ok := <-done:
			if !ok {
				if err := flush(); err != nil {
					return err
				}
				if werr != nil {
					return werr
				}
				if perr != nil {
					return perr
				}
				return ctx.Err()
			}
			buf = append(buf, l)
			if len(buf) >= labelCommitSize {
				if err := flush(); err != nil {
					cancel()
					return err
				}
			}
		case <-tick.C:
			if err := flush(); err != nil {
				cancel()
				return err
			}
		}
	}
}

// labelNow labels candidates given by a client, from the store when it
// has them: what editors use for "does this pass".
func (d *Daemon) labelNow(ctx context.Context, p *LabelParams) ([]*dataset.Label, error) {
	if err := checkProblem(p.Problem, p.Candidates); err != nil {
		return nil, err
	}
	ph := store.ProblemHash(p.Problem)
	out := make([]*dataset.Label, len(p.Candidates))
	var fresh []store.Labelled
	var mu sync.Mutex
	err := workpool.Each(ctx, len(p.Candidates), d.cfg.Workers, func(i int) error {
		c := p.Candidates[i]
		ch := store.CandidateHash(c)
		l, err := d.st.Label(ctx, ph, ch, d.env)
		if err != nil {
			return err
		}
		if l == nil {
			release, err := d.cpu.acquire(ctx, prioRank)
			if err != nil {
				return err
			}
			l, err = d.lb.Label(ctx, p.Problem, c)
			release()
			if err != nil {
				return err
			}
			mu.Lock()
			fresh = append(fresh, store.Labelled{ProblemHash: ph, CandHash: ch, Label: l})
			mu.Unlock()
		}
		l.TaskID, l.Index = c.TaskID, *c.Index
		out[i] = l
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(fresh) > 0 {
		if err := d.st.PutLabels(context.Background(), d.env, fresh); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkProblem validates a problem and candidates sent by a client, and
// numbers candidates without an index.
func checkProblem(p *dataset.Problem, cands []*dataset.Candidate) error {
	if p == nil {
		return badParams("no problem")
	}
	raw, _ := json.Marshal(p)
	q, err := dataset.ParseProblem(raw)
	if err != nil {
		return badParams("problem: %v", err)
	}
	*p = *q
	for i, c := range cands {
		if c == nil || c.Completion == nil && c.Solution == nil {
			return badParams("candidate %d: no completion or solution", i)
		}
		c.TaskID = p.TaskID
		if c.Index == nil {
			k := i
			c.Index = &k
		}
	}
	return nil
}
