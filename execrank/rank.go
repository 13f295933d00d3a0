package execrank

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/progress"
	"github.com/toppass/toppass/internal/workpool"
	"github.com/toppass/toppass/sandbox"
)

// Methods of Rank.
const (
	// MethodCodeT is dual agreement with generated tests alone.
	MethodCodeT = "codet"
	// MethodExec is all execution evidence: examples stated in the prompt
	// first, then dual agreement with generated tests (when given).
	MethodExec = "exec"
)

// RankConfig is an execution-based ranking job.
type RankConfig struct {
	Method     string // MethodCodeT or MethodExec
	Problems   string
	Candidates string
	Tests      string // generated tests (see ReadGeneratedTests); optional for exec
	// ExamplesFrom is a problems file whose prompts state the examples
	// (exec); default: Problems. HumanEval's CodeT prompts have their
	// examples removed, humanevalplus.jsonl.gz keeps them.
	ExamplesFrom string
	Out          string // scores JSONL
	PerSample    int    // asserts kept per generated sample (CodeT: 5)
	Workers      int
	Sandbox      sandbox.Config
	Progress     io.Writer
	// Cache, when set, answers probes already run and keeps new ones.
	Cache *ProbeCache
	// SelfInputs is how many inputs toppass makes per problem (see
	// SelfInputs and SelfStdin; 0: none).
	SelfInputs int
}

// ScoreLine is one line of the scores file.
type ScoreLine struct {
	TaskID string  `json:"task_id"`
	Index  int     `json:"index"`
	Score  float64 `json:"score"`
	// Passed is how many of the generated tests the candidate passed, of
	// Tests; ExamplesPassed likewise for the prompt's examples (exec).
	Passed         int `json:"tests_passed"`
	Tests          int `json:"tests"`
	ExamplesPassed int `json:"examples_passed,omitempty"`
	Examples       int `json:"examples,omitempty"`
	// Cluster is how many candidates behave identically on the calls the
	// tests make (0: none returned normally).
	Cluster int `json:"cluster"`
	// Agreement is the candidate's CodeT dual-agreement score: the number
	// of candidates passing exactly its set of generated tests times the
	// number of tests in that set.
	Agreement float64 `json:"agreement"`
	// Behaviour is the candidate's agreement with the others on the calls
	// (the examples' and toppass's own inputs; see Behaviour), in [0, 1];
	// Inputs is how many calls counted.
	Behaviour float64 `json:"behaviour,omitempty"`
	Inputs    int     `json:"inputs,omitempty"`
	// Sigs are the candidate's results on the calls (ProbeResult.Sigs),
	// for analysis; not written to a scores file.
	Sigs []string `json:"-"`
}

// score orders candidates: examples the problem states first, then dual
// agreement with the generated tests, then, among equals, the agreement
// of their behaviour with the others' on the calls (see Behaviour), then
// the size of the candidate's behaviour cluster (candidates returning the
// same values on the same calls). Each key is scaled past the range of
// the next: agreement is at most candidates × tests, behaviour·n(n+1) +
// cluster stays below (n+1)².
func score(examplesPassed int, agreement, behaviour float64, cluster, candidates int) float64 {
	n := float64(candidates)
	return exampleWeight*float64(examplesPassed) + agreement*(n+1)*(n+1) + behaviour*n*(n+1) + float64(cluster)
}

// exampleWeight puts one passed example above any agreement (≤ 1e3
// candidates × 1e3 tests × 1e6 scale, below it).
const exampleWeight = 1e13

func count(v []bool) int {
	n := 0
	for _, b := range v {
		if b {
			n++
		}
	}
	return n
}

// Rank runs every candidate against its problem's examples (exec) and
// generated tests and writes one score per candidate (see score). Problems
// with neither give every candidate score 0 (a tie: random order).
func Rank(ctx context.Context, cfg RankConfig) error {
	start := time.Now()
	lines, order, err := Features(ctx, cfg)
	if err != nil && lines == nil {
		return err
	}
	f, ferr := os.Create(cfg.Out)
	if ferr != nil {
		return ferr
	}
	w := bufio.NewWriter(f)
	total, withTests := 0, 0
	for _, id := range order {
		for _, line := range lines[id] {
			b, _ := json.Marshal(line)
			w.Write(append(b, '\n'))
			total++
		}
		if len(lines[id]) > 0 && lines[id][0].Tests > 0 {
			withTests++
		}
	}
	if ferr := w.Flush(); ferr != nil {
		f.Close()
		return ferr
	}
	if ferr := f.Close(); ferr != nil {
		return ferr
	}
	slog.Info("scores written", "method", cmp.Or(cfg.Method, MethodCodeT), "out", cfg.Out, "candidates", total, "problems_with_tests", withTests,
		"problems", len(lines), "elapsed", time.Since(start).Round(time.Millisecond))
	return err
}

// Features probes every candidate (examples for exec, generated tests) and
// returns each problem's score lines, in candidate order, and the problems
// in file order. Bad input lines are reported in the returned error after
// the rest is done (lines is then still set).
func Features(ctx context.Context, cfg RankConfig) (map[string][]ScoreLine, []string, error) {
	if cfg.PerSample <= 0 {
		cfg.PerSample = 5
	}
	var bad dataset.ErrorLog
	onErr := bad.Add
	probs, order, err := dataset.ReadProblems(cfg.Problems, onErr)
	if err != nil {
		return nil, nil, err
	}
	tests := map[string][]string{}
	if cfg.Tests != "" {
		if tests, err = ReadGeneratedTests(cfg.Tests, probs, cfg.PerSample, onErr); err != nil {
			return nil, nil, err
		}
	} else if cfg.Method != MethodExec {
		return nil, nil, errors.New("codet needs generated tests (--tests)")
	}
	examples := map[string][]string{}
	stdio := map[string][]dataset.IOCase{} // stdin/stdout problems' examples
	src := probs
	if cfg.Method == MethodExec {
		if cfg.ExamplesFrom != "" {
			if src, _, err = dataset.ReadProblems(cfg.ExamplesFrom, onErr); err != nil {
				return nil, nil, err
			}
		}
		n := 0
		for id, p := range probs {
			q := src[id]
			if q == nil {
				continue
			}
			if p.Kind() == dataset.KindStdio {
				stdio[id] = ExtractStdioExamples(q.Statement())
				n += len(stdio[id])
				continue
			}
			examples[id] = ExtractExamples(q.Prompt, p.EntryPoint)
			n += len(examples[id])
		}
		slog.Info("examples extracted from prompts", "examples", n, "problems", len(probs))
	}
	plans := map[string]*plan{}
	for id, p := range probs {
		plans[id] = &plan{p: p, examples: examples[id], stdio: stdio[id], tests: tests[id], prompt: p.Prompt}
		if q := src[id]; q != nil {
			plans[id].prompt = q.Prompt
		}
		plans[id].prepare(cfg.Sandbox.Timeout, cfg.SelfInputs)
	}
	byTask := map[string][]*dataset.Candidate{}
	total := 0
	err = dataset.ReadCandidates(cfg.Candidates, func(c *dataset.Candidate) error {
		if probs[c.TaskID] == nil {
			return fmt.Errorf("unknown task_id %q", c.TaskID)
		}
		byTask[c.TaskID] = append(byTask[c.TaskID], c)
		total++
		return nil
	}, onErr)
	if err != nil {
		return nil, nil, err
	}
	sb, err := sandbox.New(ctx, cfg.Sandbox)
	if err != nil {
		return nil, nil, err
	}
	defer sb.Close(context.Background())

	type job struct {
		task string
		i    int
	}
	var jobs []job
	results := map[string][]*ProbeResult{}
	for _, id := range order {
		for i := range byTask[id] {
			jobs = append(jobs, job{id, i})
		}
		results[id] = make([]*ProbeResult, len(byTask[id]))
	}
	var bar *progress.Bar
	if cfg.Progress != nil {
		bar = progress.New(cfg.Progress, "rank "+cmp.Or(cfg.Method, MethodCodeT), int64(total), nil)
	}
	var cache Cache
	if cfg.Cache != nil {
		cache = cfg.Cache
	}
	// Each job writes its own slot of results: no lock needed.
	err = workpool.Each(ctx, len(jobs), cfg.Workers, func(k int) error {
		j := jobs[k]
		r, err := plans[j.task].probe(ctx, sb, byTask[j.task][j.i], cache, nil)
		if err != nil {
			return err
		}
		results[j.task][j.i] = r
		if bar != nil {
			bar.Add(1)
		}
		return nil
	})
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return nil, nil, err
	}

	lines := map[string][]ScoreLine{}
	var done []string
	for _, id := range order {
		cs := byTask[id]
		if len(cs) == 0 {
			continue
		}
		done = append(done, id)
		lines[id] = plans[id].lines(cs, results[id])
	}
	slog.Debug("probed", "candidates", total)
	return lines, done, bad.Err()
}

// Cache keeps probe results by content key (ProbeCache in a file, the
// daemon's store).
type Cache interface {
	Get(key string) (*ProbeResult, bool)
	Put(key string, r *ProbeResult) error
}

// MaxProbeBudget caps a probe run's time budget (seconds of native
// CPython, like the sandbox's): examples and self-made inputs are small,
// and a ranking's time per problem stays bounded — at most its candidates
// × this ÷ the workers, when every one of them loops. The generalization
// figures (docs/benchmarks.md) were measured with this budget.
const MaxProbeBudget = 500 * time.Millisecond

// ProbeBudget is the budget of a probe run under a sandbox budget (0: the
// sandbox's default).
func ProbeBudget(sandboxBudget time.Duration) time.Duration {
	if sandboxBudget <= 0 || sandboxBudget > MaxProbeBudget {
		return MaxProbeBudget
	}
	return sandboxBudget
}

// plan is how one problem's candidates are probed: the prompt's examples
// (or stdin/stdout examples), then the generated tests, then the calls of
// both for behaviour signatures, all in one run per candidate.
type plan struct {
	p        *dataset.Problem
	prompt   string // the one that states the examples
	examples []string
	stdio    []dataset.IOCase
	tests    []string
	budget   time.Duration
	// stdioSelf are toppass's own inputs for a stdin/stdout program.
	stdioSelf []string

	probeTests, calls, keyTests []string
}

// prepare makes the run's tests and calls: the examples', the tests', and
// selfInputs made-up calls (function-style problems).
func (pl *plan) prepare(budget time.Duration, selfInputs int) {
	pl.budget = ProbeBudget(budget)
	pl.probeTests = append(append([]string(nil), pl.examples...), pl.tests...)
	pl.calls = CallsOf(pl.probeTests, pl.p.EntryPoint)
	if selfInputs > 0 && len(pl.stdio) == 0 && pl.p.Kind() != dataset.KindStdio {
		pl.calls = append(pl.calls, SelfInputs(pl.prompt, pl.p.EntryPoint, pl.calls, selfInputs)...)
	}
	pl.keyTests = pl.probeTests
	for _, ex := range pl.stdio {
		pl.keyTests = append(pl.keyTests[:len(pl.keyTests):len(pl.keyTests)], "stdio\x01"+ex.Input+"\x01"+ex.Output)
	}
	if selfInputs > 0 && len(pl.stdio) > 0 {
		pl.stdioSelf = SelfStdin(pl.stdio, selfInputs)
		for _, in := range pl.stdioSelf {
			pl.keyTests = append(pl.keyTests[:len(pl.keyTests):len(pl.keyTests)], "stdin\x01"+in)
		}
	}
}

// probe runs one candidate, or finds its result in cache; acquire, when
// set, is held while it runs.
func (pl *plan) probe(ctx context.Context, sb *sandbox.Sandbox, c *dataset.Candidate, cache Cache,
	acquire func(context.Context) (func(), error)) (*ProbeResult, error) {
	var key string
	if cache != nil {
		key = probeKey(pl.p, c, pl.keyTests, pl.calls, pl.budget)
		if r, ok := cache.Get(key); ok {
			return r, nil
		}
	}
	if acquire != nil {
		release, err := acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	var r *ProbeResult
	var err error
	if len(pl.stdio) > 0 {
		r, err = ProbeStdio(ctx, sb, pl.p, c, pl.stdio, pl.stdioSelf, pl.budget)
	} else {
		r, err = Probe(ctx, sb, pl.p, c, pl.probeTests, pl.calls, pl.budget)
	}
	if err != nil {
		return nil, err
	}
	if cache != nil {
		if err := cache.Put(key, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// lines scores the candidates from their probe results.
func (pl *plan) lines(cs []*dataset.Candidate, results []*ProbeResult) []ScoreLine {
	ne := len(pl.examples) + len(pl.stdio)
	gen := make([][]bool, len(cs))
	sigs := make([][]string, len(cs))
	for i := range cs {
		gen[i] = results[i].Held[ne:]
		sigs[i] = results[i].Sigs
	}
	scores := DualAgreement(gen)
	clusters := ClusterSizes(sigs)
	behaviour, kept := Behaviour(sigs)
	out := make([]ScoreLine, len(cs))
	for i, c := range cs {
		line := ScoreLine{TaskID: c.TaskID, Index: *c.Index, Tests: len(pl.tests), Examples: ne, Cluster: clusters[i], Agreement: scores[i],
			Behaviour: behaviour[i], Inputs: kept, Sigs: sigs[i]}
		line.Passed = count(gen[i])
		line.ExamplesPassed = count(results[i].Held[:ne])
		line.Score = score(line.ExamplesPassed, scores[i], behaviour[i], clusters[i], len(cs))
		out[i] = line
	}
	return out
}

// EvidenceConfig is what Evidence runs for one problem.
type EvidenceConfig struct {
	// Examples: take the examples from the prompt (doctest and prose
	// forms; stdin/stdout examples of a statement).
	Examples bool
	// ExamplesFrom, when set, is the problem whose prompt states them.
	ExamplesFrom *dataset.Problem
	// Tests are generated asserts (CodeT), already extracted.
	Tests []string
	// SelfInputs is how many inputs to make up (see SelfInputs; 0: none).
	SelfInputs int
	Workers    int
	Budget     time.Duration // the sandbox's, for cache keys
	Cache      Cache
	// Acquire, when set, is called around each probe that runs (the
	// daemon's CPU budget).
	Acquire func(context.Context) (release func(), err error)
}

// Evidence probes one problem's candidates, in memory, and scores them
// (see score): the daemon's and the hybrid ranker's way in.
func Evidence(ctx context.Context, sb *sandbox.Sandbox, p *dataset.Problem, cands []*dataset.Candidate, cfg EvidenceConfig) ([]ScoreLine, error) {
	pl := &plan{p: p, tests: cfg.Tests, prompt: p.Prompt}
	if cfg.Examples {
		q := p
		if cfg.ExamplesFrom != nil {
			q = cfg.ExamplesFrom
		}
		pl.prompt = q.Prompt
		if p.Kind() == dataset.KindStdio {
			pl.stdio = ExtractStdioExamples(q.Statement())
		} else {
			pl.examples = ExtractExamples(q.Prompt, p.EntryPoint)
		}
	}
	pl.prepare(cfg.Budget, cfg.SelfInputs)
	results := make([]*ProbeResult, len(cands))
	err := workpool.Each(ctx, len(cands), cfg.Workers, func(i int) error {
		r, err := pl.probe(ctx, sb, cands[i], cfg.Cache, cfg.Acquire)
		results[i] = r
		return err
	})
	if err != nil {
		return nil, err
	}
	return pl.lines(cands, results), nil
}
