package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
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

// groupFLOPs is a forward pass over a problem and n candidates.
func groupFLOPs(c ranker.Config, n int) float64 {
	return encoderFLOPs(c, c.ProbLen) + float64(n)*encoderFLOPs(c, c.CandLen)
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
	score := func(n int) error {
		var statics []ranker.Static
		if cfg.Analyse != nil {
			var err error
			if statics, err = cfg.Analyse(ctx, probs[order[0]], cands[:n]); err != nil {
				return err
			}
		}
		_, err := m.Predict(m.Encode(text, codes[:n], statics))
		return err
	}
	fmt.Fprintf(w, "ranker on %s (%s), %d CPUs\n", cfg.Backend.Name(), cfg.Backend.Description(), runtime.NumCPU())
	fmt.Fprintf(w, "model: dim %d, %d layers, %d heads, ffn %d, %d candidate + %d problem tokens\n",
		c.Dim, c.Layers, c.Heads, c.FFN, c.CandLen, c.ProbLen)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case (static analysis + features + model)\tfirst call\tmedian\tsequences/s\tGFLOP\tGFLOP/s\t")
	for _, n := range []int{20, 200} {
		t0 := time.Now()
		if err := score(n); err != nil {
			return err
		}
		first := time.Since(t0)
		var ts []time.Duration
		for r := 0; r < cfg.Repeats; r++ {
			t0 := time.Now()
			if err := score(n); err != nil {
				return err
			}
			ts = append(ts, time.Since(t0))
		}
		// the padded rows are computed too; count them
		fl := groupFLOPs(c, ranker.BucketSize(n))
		med := median(ts)
		fmt.Fprintf(tw, "score %d candidates\t%s\t%s\t%.0f\t%.2f\t%.2f\t\n", n, first.Round(time.Millisecond), med.Round(time.Millisecond),
			float64(n)/med.Seconds(), fl/1e9, fl/1e9/med.Seconds())
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
	fmt.Fprintf(tw, "train step (16 candidates)\t%s\t%s\t%.0f\t%.2f\t%.2f\t\n", steps[0].Round(time.Millisecond), med.Round(time.Millisecond),
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
	fmt.Fprintln(tw, "stage: median (first call)\tstatic analysis\tencode + set features\tforward\t")
	for _, n := range []int{20, 200} {
		var st, enc, fwd []time.Duration
		var firsts [3]time.Duration
		for r := 0; r <= cfg.Repeats; r++ {
			t0 := time.Now()
			var statics []ranker.Static
			if cfg.Analyse != nil {
				var err error
				if statics, err = cfg.Analyse(ctx, probs[order[0]], cands[:n]); err != nil {
					return err
				}
			}
			t1 := time.Now()
			g := m.Encode(text, codes[:n], statics)
			t2 := time.Now()
			if _, err := m.Predict(g); err != nil {
				return err
			}
			t3 := time.Now()
			if r == 0 {
				firsts = [3]time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)}
				continue
			}
			st, enc, fwd = append(st, t1.Sub(t0)), append(enc, t2.Sub(t1)), append(fwd, t3.Sub(t2))
		}
		ms := func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
		fmt.Fprintf(tw, "%d candidates\t%s (%s)\t%s (%s)\t%s (%s)\t\n", n, ms(median(st)), ms(firsts[0]), ms(median(enc)), ms(firsts[1]),
			ms(median(fwd)), ms(firsts[2]))
	}
	return tw.Flush()
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
