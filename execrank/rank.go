package execrank

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/progress"
	"github.com/toppass/toppass/sandbox"
)

// RankConfig is a CodeT ranking job.
type RankConfig struct {
	Problems   string
	Candidates string
	Tests      string // generated tests (see ReadGeneratedTests)
	Out        string // scores JSONL
	PerSample  int    // asserts kept per generated sample (CodeT: 5)
	Workers    int
	Sandbox    sandbox.Config
	Progress   io.Writer
}

// ScoreLine is one line of the scores file.
type ScoreLine struct {
	TaskID string  `json:"task_id"`
	Index  int     `json:"index"`
	Score  float64 `json:"score"`
	// Passed is how many of the generated tests the candidate passed, of
	// Tests.
	Passed int `json:"tests_passed"`
	Tests  int `json:"tests"`
}

// Rank runs every candidate against its problem's generated tests and
// writes one dual-agreement score per candidate. Problems without usable
// tests give every candidate score 0 (a tie: random order).
func Rank(ctx context.Context, cfg RankConfig) error {
	start := time.Now()
	if cfg.PerSample <= 0 {
		cfg.PerSample = 5
	}
	bad := 0
	onErr := func(e *dataset.LineError) error {
		bad++
		slog.Error("bad input", "where", fmt.Sprintf("%s:%d", e.File, e.Line), "err", e.Err)
		return nil
	}
	probs, order, err := dataset.ReadProblems(cfg.Problems, onErr)
	if err != nil {
		return err
	}
	tests, err := ReadGeneratedTests(cfg.Tests, probs, cfg.PerSample, onErr)
	if err != nil {
		return err
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
		return err
	}
	sb, err := sandbox.New(ctx, cfg.Sandbox)
	if err != nil {
		return err
	}
	defer sb.Close(context.Background())

	type job struct {
		task string
		i    int
	}
	results := map[string][][]bool{}
	for id, cs := range byTask {
		results[id] = make([][]bool, len(cs))
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	var bar *progress.Bar
	if cfg.Progress != nil {
		bar = progress.New(cfg.Progress, "codet", int64(total), nil)
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c := byTask[j.task][j.i]
				r, err := Probe(ctx, sb, probs[j.task], c, tests[j.task])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				results[j.task][j.i] = r
				mu.Unlock()
				if bar != nil {
					bar.Add(1)
				}
			}
		}()
	}
feed:
	for _, id := range order {
		for i := range byTask[id] {
			select {
			case jobs <- job{id, i}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	if bar != nil {
		bar.Done()
	}
	if firstErr != nil {
		return firstErr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	f, err := os.Create(cfg.Out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	withTests := 0
	for _, id := range order {
		cs := byTask[id]
		if len(cs) == 0 {
			continue
		}
		if len(tests[id]) > 0 {
			withTests++
		}
		scores := DualAgreement(results[id])
		for i, c := range cs {
			passed := 0
			for _, v := range results[id][i] {
				if v {
					passed++
				}
			}
			b, _ := json.Marshal(ScoreLine{TaskID: id, Index: *c.Index, Score: scores[i], Passed: passed, Tests: len(tests[id])})
			w.Write(append(b, '\n'))
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	slog.Info("codet scores written", "out", cfg.Out, "candidates", total, "problems_with_tests", withTests,
		"problems", len(byTask), "elapsed", time.Since(start).Round(time.Millisecond))
	if bad > 0 {
		return fmt.Errorf("%d bad input lines", bad)
	}
	return nil
}
