package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/toppass/toppass/daemon"
	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/label"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/sandbox"
)

// DaemonConfig is a daemon benchmark: clients asking for rankings on the
// socket while the daemon labels a set.
type DaemonConfig struct {
	Problems   string
	Candidates string
	Native     string  // native labels: candidates that time out natively are left out (0: keep all)
	Limit      int     // candidates to label
	Clients    int     // concurrent clients (default 20)
	Rate       float64 // requests per second per client (0: back to back)
	// FreshEvery is how often one more client asks for a ranking the
	// daemon has not seen (default 2 s): the editor whose user asked
	// about a new function.
	FreshEvery time.Duration
	Exe        string // the toppass binary, run as the daemon
	Workers    int
	Timeout    time.Duration
	Progress   io.Writer
}

type latencies struct {
	mu  sync.Mutex
	lat []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.lat = append(l.lat, d)
	l.mu.Unlock()
}

// Daemon runs the benchmark: first `toppass label`'s labeller alone on the
// candidates, then the daemon (in this process) labelling the same
// candidates from a watched folder while the clients ask for rankings.
func Daemon(ctx context.Context, cfg DaemonConfig, w io.Writer) error {
	if cfg.Clients <= 0 {
		cfg.Clients = 20
	}
	if cfg.FreshEvery <= 0 {
		cfg.FreshEvery = 2 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = sandbox.DefaultTimeout
	}
	var bad dataset.ErrorLog
	probs, order, byTask, err := ranker.ProblemCandidates(cfg.Problems, cfg.Candidates, &bad)
	if err != nil {
		return err
	}
	skip := map[dataset.Key]bool{}
	if cfg.Native != "" {
		native, _, err := dataset.ReadLabels(cfg.Native, bad.Add)
		if err != nil {
			return err
		}
		for k, l := range native {
			if l.Status == "timeout" {
				skip[k] = true
			}
		}
	}
	// The labelling set: candidates spread over the problems.
	var set []*dataset.Candidate
	per := max(1, cfg.Limit/max(1, len(order)))
	for _, id := range order {
		n := 0
		for _, c := range byTask[id] {
			if n < per && !skip[c.Key()] {
				set = append(set, c)
				n++
			}
		}
	}
	dir, err := os.MkdirTemp("", "toppass-bench-daemon-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	setDir := filepath.Join(dir, "set")
	if err := writeSet(setDir, probs, set); err != nil {
		return err
	}

	// 1. The labeller alone.
	alone, err := label.Run(ctx, label.RunConfig{Problems: filepath.Join(setDir, "problems.jsonl"),
		Candidates: filepath.Join(setDir, "candidates.jsonl"), Out: filepath.Join(dir, "alone.jsonl"),
		Workers: cfg.Workers, Sandbox: sandbox.Config{Timeout: cfg.Timeout}, Progress: cfg.Progress})
	if err != nil {
		return err
	}
	aloneRate := float64(alone.Labelled) / alone.Elapsed.Seconds()

	// 2. The daemon, a process of its own, with its files in dir.
	paths, env, err := daemon.IsolatedPaths(dir)
	if err != nil {
		return err
	}
	conf := fmt.Sprintf("workers = %d\ntimeout = %q\n[finetune]\nenabled = false\n", cfg.Workers, cfg.Timeout.String())
	if err := os.WriteFile(paths.ConfigFile(), []byte(conf), 0o600); err != nil {
		return err
	}
	proc := exec.CommandContext(ctx, cfg.Exe, "daemon")
	proc.Env = append(os.Environ(), env...)
	if err := proc.Start(); err != nil {
		return err
	}
	defer func() {
		proc.Process.Signal(os.Interrupt)
		proc.Wait()
	}()
	var cl *daemon.Client
	for deadline := time.Now().Add(time.Minute); ; {
		if cl, err = daemon.Dial(ctx, paths); err == nil {
			var st daemon.Status
			if err = cl.Call(ctx, daemon.MethodStatus, nil, &st); err == nil {
				break
			}
			cl.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the daemon did not start: %v (see %s)", err, paths.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer cl.Close()

	// The rankings the cached clients ask for: 10 problems' first 10
	// candidates, ranked once before the clock starts.
	type ask struct {
		p     *dataset.Problem
		cands []*dataset.Candidate
	}
	var pool []ask
	for _, id := range order[:min(10, len(order))] {
		cs := byTask[id][:min(10, len(byTask[id]))]
		pool = append(pool, ask{probs[id], cs})
		if err := cl.Call(ctx, daemon.MethodRank, daemon.RankParams{Problem: probs[id], Candidates: cs}, nil); err != nil {
			return err
		}
	}

	if err := cl.Call(ctx, daemon.MethodWatchAdd, daemon.DirParams{Dir: setDir}, nil); err != nil {
		return err
	}
	start := time.Now()
	var cached, fresh latencies
	var errs atomic.Int64
	var errMsg atomic.Value
	cctx, stopClients := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range cfg.Clients + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := daemon.Dial(cctx, paths)
			if err != nil {
				errs.Add(1)
				errMsg.Store(err.Error())
				return
			}
			defer c.Close()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			isFresh := i == cfg.Clients // the extra client
			var tick <-chan time.Time
			if cfg.Rate > 0 && !isFresh {
				// Clients do not start in step: a random phase each.
				period := time.Duration(float64(time.Second) / cfg.Rate)
				time.Sleep(time.Duration(rng.Int64N(int64(period))))
				t := time.NewTicker(period)
				defer t.Stop()
				tick = t.C
			}
			for cctx.Err() == nil {
				if tick != nil {
					select {
					case <-tick:
					case <-cctx.Done():
						return
					}
				}
				a := pool[rng.IntN(len(pool))]
				cands := a.cands
				if isFresh {
					select {
					case <-time.After(cfg.FreshEvery):
					case <-cctx.Done():
						return
					}
					// A random subset of another problem's candidates: a
					// ranking the daemon has not seen.
					id := order[rng.IntN(len(order))]
					all := byTask[id]
					k := min(len(all), 3+rng.IntN(8))
					perm := rng.Perm(len(all))[:k]
					slices.Sort(perm)
					cands = nil
					for _, j := range perm {
						cands = append(cands, all[j])
					}
					a.p = probs[id]
				}
				t := time.Now()
				var res daemon.RankResult
				err := c.Call(cctx, daemon.MethodRank, daemon.RankParams{Problem: a.p, Candidates: cands}, &res)
				if cctx.Err() != nil {
					return
				}
				if err != nil || len(res.Ranked) != len(cands) {
					errs.Add(1)
					if err != nil {
						errMsg.Store(err.Error())
					}
					continue
				}
				if res.Cached {
					cached.add(time.Since(t))
				} else {
					fresh.add(time.Since(t))
				}
			}
		}()
	}
	// Until the set is labelled.
	var labelled time.Duration
	for {
		var st daemon.Status
		if err := cl.Call(ctx, daemon.MethodStatus, nil, &st); err != nil {
			stopClients()
			return err
		}
		// Done when the set was read, nothing waits for a label and no job
		// runs (identical candidates share one label: count pending).
		busy, scanned := false, false
		for _, j := range st.Jobs {
			busy = busy || j.State == "queued" || j.State == "running"
		}
		for _, s := range st.Sets {
			scanned = scanned || s.Dir == setDir && s.Scanned > 0
		}
		if scanned && st.Pending == 0 && !busy {
			labelled = time.Since(start)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	stopClients()
	wg.Wait()
	elapsed := time.Since(start)
	served := len(cached.lat) + len(fresh.lat)
	servedRate := float64(len(set)) / labelled.Seconds()

	fmt.Fprintf(w, "daemon benchmark: %d candidates of %d problems labelled (budget %v, %d workers, %d CPUs) while %d clients ask for cached rankings (%s each) and one more asks for a new one every %v\n\n",
		len(set), countTasks(set), cfg.Timeout, cfg.Workers, runtime.NumCPU(), cfg.Clients, rate(cfg.Rate), cfg.FreshEvery)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rankings\tcount\tp50\tp95\tp99\tmax\t")
	for _, r := range []struct {
		name string
		l    []time.Duration
	}{{"cached", cached.lat}, {"fresh", fresh.lat}} {
		if len(r.l) == 0 {
			fmt.Fprintf(tw, "%s\t0\t\t\t\t\t\n", r.name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%v\t%v\t%v\t%v\t\n", r.name, len(r.l), pct(r.l, 50).Round(10*time.Microsecond),
			pct(r.l, 95).Round(10*time.Microsecond), pct(r.l, 99).Round(10*time.Microsecond), pct(r.l, 100).Round(10*time.Microsecond))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nrequests/s: %.1f (%d in %v); failed or dropped: %d", float64(served)/elapsed.Seconds(), served, elapsed.Round(time.Millisecond), errs.Load())
	if m, ok := errMsg.Load().(string); ok {
		fmt.Fprintf(w, " (%s)", m)
	}
	fmt.Fprintf(w, "\nlabelling: %.1f labels/s while serving vs %.1f alone (toppass label): %.0f%%\n", servedRate, aloneRate, 100*servedRate/aloneRate)
	return nil
}

func writeSet(dir string, probs map[string]*dataset.Problem, cands []*dataset.Candidate) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pf, err := os.Create(filepath.Join(dir, "problems.jsonl"))
	if err != nil {
		return err
	}
	defer pf.Close()
	cf, err := os.Create(filepath.Join(dir, "candidates.jsonl"))
	if err != nil {
		return err
	}
	defer cf.Close()
	seen := map[string]bool{}
	pe, ce := json.NewEncoder(pf), json.NewEncoder(cf)
	for _, c := range cands {
		if !seen[c.TaskID] {
			seen[c.TaskID] = true
			if err := pe.Encode(probs[c.TaskID]); err != nil {
				return err
			}
		}
		if err := ce.Encode(c); err != nil {
			return err
		}
	}
	return nil
}

func rate(r float64) string {
	if r <= 0 {
		return "back to back"
	}
	return fmt.Sprintf("%g/s", r)
}
