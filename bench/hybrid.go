package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/hybrid"
	"github.com/toppass/toppass/ranker"
)

// HybridConfig is a per-problem timing of the hybrid ranker's stages.
type HybridConfig struct {
	Exec     execrank.RankConfig // problems, candidates, tests, examples, sandbox
	Model    *ranker.Model
	Analyse  ranker.Analyse
	Fusion   *hybrid.Fusion
	Problems int // how many problems to time (their candidates all)
}

// Hybrid times, per problem, the execution probes (examples and generated
// tests), the static analysis, the neural model and the fusion, on the
// first Problems problems of the candidates file.
func Hybrid(ctx context.Context, cfg HybridConfig, w io.Writer) error {
	var errs dataset.ErrorLog
	probs, order, byTask, err := ranker.ProblemCandidates(cfg.Exec.Problems, cfg.Exec.Candidates, &errs)
	if err != nil {
		return err
	}
	if cfg.Problems <= 0 || cfg.Problems > len(order) {
		cfg.Problems = len(order)
	}
	order = order[:cfg.Problems]
	// The candidates of the chosen problems, in a file of their own.
	dir, err := os.MkdirTemp("", "toppass-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sub := filepath.Join(dir, "candidates.jsonl")
	n := 0
	f, err := os.Create(sub)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, id := range order {
		for _, c := range byTask[id] {
			if err := enc.Encode(c); err != nil {
				f.Close()
				return err
			}
			n++
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	ecfg := cfg.Exec
	ecfg.Candidates, ecfg.Progress, ecfg.Cache = sub, nil, nil

	t0 := time.Now()
	lines, _, err := execrank.Features(ctx, ecfg)
	if err != nil {
		return err
	}
	tExec := time.Since(t0)
	var tStatic, tNeural, tFuse time.Duration
	for _, id := range order {
		cands := byTask[id]
		t1 := time.Now()
		statics, err := cfg.Analyse(ctx, probs[id], cands)
		if err != nil {
			return err
		}
		t2 := time.Now()
		preds, err := cfg.Model.Predict(cfg.Model.Encode(ranker.ProblemText(probs[id]), ranker.Codes(cands), statics))
		if err != nil {
			return err
		}
		t3 := time.Now()
		for _, x := range hybrid.Features(preds, lines[id], ranker.SimpleConsensus(ranker.Codes(cands))) {
			if cfg.Fusion != nil {
				cfg.Fusion.Score(x)
			} else {
				hybrid.Rule(x)
			}
		}
		tFuse += time.Since(t3)
		tNeural += t3.Sub(t2)
		tStatic += t2.Sub(t1)
	}
	k := time.Duration(len(order))
	workers := ecfg.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	fmt.Fprintf(w, "hybrid ranking, %d problems, %d candidates (%.0f per problem), %d sandbox workers\n", len(order), n, float64(n)/float64(len(order)), workers)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "stage\tper problem\t")
	fmt.Fprintf(tw, "execution probes (examples + generated tests)\t%s\t\n", (tExec / k).Round(time.Millisecond))
	fmt.Fprintf(tw, "static analysis (compile, symbol tables)\t%s\t\n", (tStatic / k).Round(time.Millisecond))
	fmt.Fprintf(tw, "set features + neural model\t%s\t\n", (tNeural / k).Round(time.Millisecond))
	fmt.Fprintf(tw, "fusion\t%s\t\n", (tFuse / k).Round(time.Microsecond))
	fmt.Fprintf(tw, "total\t%s\t\n", ((tExec + tStatic + tNeural + tFuse) / k).Round(time.Millisecond))
	return tw.Flush()
}
