package daemon

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/toppass/toppass/dataset"
)

// runInProcess starts a daemon in this process with its files in dir.
// seed, when given, prepares its store (and its folders) first.
func runInProcess(tb testing.TB, seed ...func(Paths, Config)) (*Client, func()) {
	tb.Helper()
	dir := tb.TempDir()
	paths := Paths{Config: filepath.Join(dir, "c"), Data: filepath.Join(dir, "d"), State: filepath.Join(dir, "s"),
		Cache: filepath.Join(dir, "k"), Runtime: filepath.Join(dir, "r")}
	cfg := DefaultConfig()
	cfg.Workers, cfg.Finetune.Enabled = 2, false
	cfg.Dashboard.Port = 0
	for _, f := range seed {
		f(paths, cfg)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, paths, cfg) }()
	for i := 0; i < 600; i++ {
		if c, err := Dial(ctx, paths); err == nil {
			if c.Call(ctx, MethodStatus, nil, nil) == nil {
				return c, func() { c.Close(); stop(); <-done }
			}
			c.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	tb.Fatal("the daemon did not start")
	return nil, nil
}

// BenchmarkRankCached is one cached ranking of 10 candidates, through the
// socket: what an editor pays when it asks again.
func BenchmarkRankCached(b *testing.B) {
	c, stop := runInProcess(b)
	defer stop()
	probs, _, err := dataset.ReadProblems("../testdata/sample/problems.jsonl", func(e *dataset.LineError) error { return e })
	if err != nil {
		b.Fatal(err)
	}
	p := probs["sample/digit_sum"]
	var cands []*dataset.Candidate
	for i := range 10 {
		code := "    return sum(int(c) for c in str(n)) + " + string(rune('0'+i)) + " * 0\n"
		cands = append(cands, &dataset.Candidate{Completion: &code})
	}
	params := RankParams{Problem: p, Candidates: cands}
	ctx := context.Background()
	var res RankResult
	if err := c.Call(ctx, MethodRank, params, &res); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := c.Call(ctx, MethodRank, params, &res); err != nil || !res.Cached {
			b.Fatal(err, res.Cached)
		}
	}
}

// BenchmarkStatus is the cheapest request.
func BenchmarkStatus(b *testing.B) {
	c, stop := runInProcess(b)
	defer stop()
	for b.Loop() {
		if err := c.Call(context.Background(), MethodStatus, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}
