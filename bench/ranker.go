package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/trainer"
)

// RankerConfig is a ranker benchmark on one problem's candidates.
type RankerConfig struct {
	Model      *ranker.Model
	Backend    backends.Backend
	Problems   string
	Candidates string
	Repeats    int
	Analyse    ranker.Analyse // static analysis, timed with the scoring
}

// Forward FLOPs of the encoder on one sequence of n tokens (matmuls only:
// Q, K, V, output projections, feed-forward, attention scores and values).
func encoderFLOPs(c ranker.Config, n int) float64 {
	L, d, f := float64(n), float64(c.Dim), float64(c.FFN)
	perLayer := 4*2*L*d*d + 2*2*L*d*f + 2*2*L*L*d
	return float64(c.Layers) * perLayer
}

// groupFLOPs is a forward pass over a problem and n candidates, padded
// as the graph computes it.
func groupFLOPs(c ranker.Config, n int) float64 {
	return encoderFLOPs(c, c.ProbLen) + float64(n)*encoderFLOPs(c, c.CandLen)
}

// realFLOPs is a forward pass over g's real tokens, as the Go path
// computes it.
func realFLOPs(c ranker.Config, g *ranker.Group) float64 {
	fl := encoderFLOPs(c, max(len(g.Prob), 1))
	for _, ids := range g.Cands {
		fl += encoderFLOPs(c, max(len(ids), 1))
	}
	return fl
}

// Ranker measures scoring latency for 20 and 200 candidates, throughput,
// and a training step, and the GFLOP/s they reach next to the CPU's peak.
func Ranker(ctx context.Context, cfg RankerConfig, w io.Writer) error {
	if cfg.Repeats <= 0 {
		cfg.Repeats = 5
	}
	probs, order, byTask, err := ranker.ProblemCandidates(cfg.Problems, cfg.Candidates, &dataset.ErrorLog{})
	if err != nil {
		return err
	}
	if len(order) == 0 {
		return fmt.Errorf("no candidates in %s", cfg.Candidates)
	}
	// Candidates of the first problem, cycled up to 200.
	first := byTask[order[0]]
	var cands []*dataset.Candidate
	for len(cands) < 200 {
		cands = append(cands, first...)
	}
	codes := ranker.Codes(cands)
	text := ranker.ProblemText(probs[order[0]])
	m := cfg.Model
	c := m.Config
	// Static analysis and features once per size: the model's two paths
	// then score the same groups.
	groups := map[int]*ranker.Group{}
	for _, n := range []int{20, 200} {
		var statics []ranker.Static
		if cfg.Analyse != nil {
			if statics, err = cfg.Analyse(ctx, probs[order[0]], cands[:n]); err != nil {
				return err
			}
		}
		groups[n] = m.Encode(text, codes[:n], statics)
	}
	fmt.Fprintf(w, "ranker on %s (%s), %d CPUs\n", cfg.Backend.Name(), cfg.Backend.Description(), runtime.NumCPU())
	fmt.Fprintf(w, "model: dim %d, %d layers, %d heads, ffn %d, %d candidate + %d problem tokens; an ensemble of %d\n",
		c.Dim, c.Layers, c.Heads, c.FFN, c.CandLen, c.ProbLen, m.Members())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "forward pass\tfirst call\tmedian\tsequences/s\tGFLOP\tGFLOP/s\t")
	paths := []struct {
		name    string
		predict func(*ranker.Group) ([]ranker.Prediction, error)
		flops   func(n int) float64
	}{
		// The graph computes the padded rows and tokens too; count them.
		// Every member of an ensemble makes its own pass.
		{"graph (GoMLX)", m.PredictGraph, func(n int) float64 { return float64(m.Members()) * groupFLOPs(c, ranker.BucketSize(n)) }},
		{"Go path (Predict)", m.Predict, func(n int) float64 { return float64(m.Members()) * realFLOPs(c, groups[n]) }},
	}
	if !m.GoPath() { // Predict is the graph there
		paths = paths[:1]
	}
	for _, path := range paths {
		for _, n := range []int{20, 200} {
			var ts []time.Duration
			for r := 0; r <= cfg.Repeats; r++ {
				t0 := time.Now()
				if _, err := path.predict(groups[n]); err != nil {
					return err
				}
				ts = append(ts, time.Since(t0))
			}
			fl := path.flops(n)
			med := median(ts[1:])
			fmt.Fprintf(tw, "%s, %d candidates\t%s\t%s\t%.0f\t%.2f\t%.2f\t\n", path.name, n, ts[0].Round(time.Millisecond), med.Round(time.Millisecond),
				float64(n)/med.Seconds(), fl/1e9, fl/1e9/med.Seconds())
		}
	}
	// A training step: a fresh model of the same shape, one group of 16.
	fresh, err := ranker.New(cfg.Backend, c, m.Tok)
	if err != nil {
		return err
	}
	p := &trainer.Problem{TaskID: order[0], Text: text}
	for i, code := range codes[:64] {
		l := &dataset.Label{TaskID: order[0], Index: i, Passed: i%3 == 0, Status: "fail"}
		p.Rows = append(p.Rows, trainer.MakeRow(dataset.Key{TaskID: order[0], Index: i}, code, l))
	}
	steps, err := trainer.BenchSteps(cfg.Backend, fresh, p, 16, cfg.Repeats+1)
	if err != nil {
		return err
	}
	med := median(steps[1:])
	fl := 3 * groupFLOPs(c, 16) // forward + backward ≈ 3 forwards
	fmt.Fprintf(tw, "train step (graph, 16 candidates)\t%s\t%s\t%.0f\t%.2f\t%.2f\t\n", steps[0].Round(time.Millisecond), med.Round(time.Millisecond),
		16/med.Seconds(), fl/1e9, fl/1e9/med.Seconds())
	if peak, how := cpuPeak(); peak > 0 {
		fmt.Fprintf(tw, "CPU peak (fp32, all cores; %s)\t\t\t\t\t%.0f\t\n", how, peak)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Where a scoring's time goes: static analysis (each candidate
	// compiled in the sandbox), the tokenizer and the set features
	// (Encode), the model's forward pass (Predict).
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scoring, by stage: median (first call)\tstatic analysis\tencode + set features\tforward\twhole\ttarget (2 cores)\t")
	for _, n := range []int{20, 200} {
		var st, enc, fwd, whole []time.Duration
		var first stageTimes
		for r := 0; r <= cfg.Repeats; r++ {
			_, t, err := timedScore(ctx, m, cfg.Analyse, probs[order[0]], cands[:n])
			if err != nil {
				return err
			}
			if r == 0 {
				first = t
				continue
			}
			st, enc, fwd = append(st, t.static), append(enc, t.encode), append(fwd, t.forward)
			whole = append(whole, t.static+t.encode+t.forward)
		}
		ms := func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
		target := map[int]string{20: "< 300ms", 200: "< 2s"}[n]
		fmt.Fprintf(tw, "%d candidates\t%s (%s)\t%s (%s)\t%s (%s)\t%s\t%s\t\n", n, ms(median(st)), ms(first.static), ms(median(enc)), ms(first.encode),
			ms(median(fwd)), ms(first.forward), ms(median(whole)), target)
	}
	return tw.Flush()
}

// stageTimes is one scoring's time by stage.
type stageTimes struct{ static, encode, forward time.Duration }

// timedScore scores one problem's candidates as ranker.Score does — static
// analysis, the tokenizer and set features (Encode), the forward pass
// (Predict) — and times each stage.
func timedScore(ctx context.Context, m *ranker.Model, analyse ranker.Analyse, p *dataset.Problem, cands []*dataset.Candidate) ([]ranker.Prediction, stageTimes, error) {
	var t stageTimes
	t0 := time.Now()
	var statics []ranker.Static
	if analyse != nil {
		var err error
		if statics, err = analyse(ctx, p, cands); err != nil {
			return nil, t, err
		}
	}
	t1 := time.Now()
	g := m.Encode(ranker.ProblemText(p), ranker.Codes(cands), statics)
	t2 := time.Now()
	preds, err := m.Predict(g)
	t.static, t.encode, t.forward = t1.Sub(t0), t2.Sub(t1), time.Since(t2)
	return preds, t, err
}

func median(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2]
}

// cpuPeak estimates the fp32 peak from /proc/cpuinfo: cores × MHz × FLOP
// per cycle (32 with AVX2+FMA: two 8-wide FMA units; 64 with AVX-512).
func cpuPeak() (float64, string) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0, ""
	}
	defer f.Close()
	var mhz float64
	var flags string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "cpu MHz":
			if x, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && mhz == 0 {
				mhz = x
			}
		case "flags":
			flags = v
		}
	}
	per, isa := 16.0, "SSE/AVX"
	switch {
	case strings.Contains(flags, " avx512f"):
		per, isa = 64, "AVX-512"
	case strings.Contains(flags, " avx2") && strings.Contains(flags, " fma"):
		per, isa = 32, "AVX2+FMA"
	}
	if mhz == 0 {
		return 0, ""
	}
	return float64(runtime.NumCPU()) * mhz / 1e3 * per, fmt.Sprintf("%s, %.0f MHz", isa, mhz)
}

// RankEndToEnd times `toppass rank --method neural` from files, on the
// first problems of the candidates file up to n candidates each size:
// the whole run (ranker.RankFiles), then the same work stage by stage
// (reading, static analysis, encoding, forward pass, writing), one run
// each.
func RankEndToEnd(ctx context.Context, cfg RankerConfig, sizes []int, w io.Writer) error {
	_, order, byTask, err := ranker.ProblemCandidates(cfg.Problems, cfg.Candidates, &dataset.ErrorLog{})
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "toppass-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank --method neural, end to end\tproblems\twhole run\tstages: read\tstatic analysis\tencode\tforward\twrite\tsum per 200\t")
	// Each size takes problems the previous did not, so that no static
	// finding is cached from before.
	next := 1 // problem 0 served the latency cases above
	for _, size := range sizes {
		var ids []string
		var cands []*dataset.Candidate
		for ; next < len(order) && len(cands) < size; next++ {
			ids = append(ids, order[next])
			cands = append(cands, byTask[order[next]]...)
		}
		if len(cands) < size {
			fmt.Fprintf(tw, "%d candidates\tnot enough candidates\t\t\t\t\t\t\t\t\n", size)
			continue
		}
		sub := filepath.Join(dir, fmt.Sprintf("candidates-%d.jsonl", size))
		if err := writeJSONL(sub, cands); err != nil {
			return err
		}
		// The stages, one after the other as RankFiles runs them.
		var tRead, tStatic, tEnc, tFwd, tWrite time.Duration
		t0 := time.Now()
		ps, pOrder, pBy, err := ranker.ProblemCandidates(cfg.Problems, sub, &dataset.ErrorLog{})
		if err != nil {
			return err
		}
		tRead = time.Since(t0)
		var lines []ranker.ScoreLine
		for _, id := range pOrder {
			preds, t, err := timedScore(ctx, cfg.Model, cfg.Analyse, ps[id], pBy[id])
			if err != nil {
				return err
			}
			tStatic, tEnc, tFwd = tStatic+t.static, tEnc+t.encode, tFwd+t.forward
			for i, p := range preds {
				lines = append(lines, ranker.ScoreLine{TaskID: id, Index: pBy[id][i].Key().Index, Prediction: p})
			}
		}
		t4 := time.Now()
		if err := writeJSONL(filepath.Join(dir, "stages.jsonl"), lines); err != nil {
			return err
		}
		tWrite = time.Since(t4)
		// The whole run, as the command does it.
		t5 := time.Now()
		if err := ranker.RankFiles(ctx, cfg.Model, cfg.Problems, sub, filepath.Join(dir, "scores.jsonl"), false, cfg.Analyse, nil); err != nil {
			return err
		}
		whole := time.Since(t5)
		sum := tRead + tStatic + tEnc + tFwd + tWrite
		ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
		fmt.Fprintf(tw, "%d candidates\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", len(cands), len(ids), ms(whole), ms(tRead), ms(tStatic), ms(tEnc), ms(tFwd), ms(tWrite),
			ms(sum*200/time.Duration(len(cands))))
	}
	return tw.Flush()
}

func writeJSONL[T any](path string, rows []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
