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
}

// score orders candidates: examples the problem states first, then dual
// agreement with the generated tests, then, among equals, the size of the
// candidate's behaviour cluster (candidates returning the same values on
// the same calls). Each key is scaled past the range of the next:
// agreement is at most candidates × tests, a cluster at most candidates.
func score(examplesPassed int, agreement float64, cluster, candidates int) float64 {
	return exampleWeight*float64(examplesPassed) + agreement*float64(candidates+1) + float64(cluster)
}

// exampleWeight puts one passed example above any agreement (≤ 1e4
// candidates × 1e3 tests × 1e4 scale, well below it).
const exampleWeight = 1e12

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
	if cfg.Method == MethodExec {
		src := probs
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
	// One probe runs the examples, then the generated tests, then the
	// calls of both for behaviour signatures.
	probeTests, probeCalls := map[string][]string{}, map[string][]string{}
	for id, p := range probs {
		probeTests[id] = append(append([]string(nil), examples[id]...), tests[id]...)
		probeCalls[id] = CallsOf(probeTests[id], p.EntryPoint)
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
	// Each job writes its own slot of results: no lock needed.
	err = workpool.Each(ctx, len(jobs), cfg.Workers, func(k int) error {
		j := jobs[k]
		p, c := probs[j.task], byTask[j.task][j.i]
		var key string
		var r *ProbeResult
		if cfg.Cache != nil {
			keyTests := probeTests[j.task]
			for _, ex := range stdio[j.task] {
				keyTests = append(keyTests[:len(keyTests):len(keyTests)], "stdio\x01"+ex.Input+"\x01"+ex.Output)
			}
			key = probeKey(p, c, keyTests, probeCalls[j.task], cfg.Sandbox.Timeout)
			r = cfg.Cache.get(key)
		}
		if r == nil {
			var err error
			if len(stdio[j.task]) > 0 {
				r, err = ProbeStdio(ctx, sb, p, c, stdio[j.task])
			} else {
				r, err = Probe(ctx, sb, p, c, probeTests[j.task], probeCalls[j.task])
			}
			if err != nil {
				return err
			}
			if cfg.Cache != nil {
				if err := cfg.Cache.put(key, r); err != nil {
					return err
				}
			}
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
		ne := len(examples[id]) + len(stdio[id])
		gen := make([][]bool, len(cs))
		sigs := make([][]string, len(cs))
		for i := range cs {
			gen[i] = results[id][i].Held[ne:]
			sigs[i] = results[id][i].Sigs
		}
		scores := DualAgreement(gen)
		clusters := ClusterSizes(sigs)
		for i, c := range cs {
			line := ScoreLine{TaskID: id, Index: *c.Index, Tests: len(tests[id]), Examples: ne, Cluster: clusters[i], Agreement: scores[i]}
			line.Passed = count(gen[i])
			line.ExamplesPassed = count(results[id][i].Held[:ne])
			line.Score = score(line.ExamplesPassed, scores[i], clusters[i], len(cs))
			lines[id] = append(lines[id], line)
		}
	}
	slog.Debug("probed", "candidates", total)
	return lines, done, bad.Err()
}
