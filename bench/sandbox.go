// Package bench measures toppass's components and prints the figures side
// by side, so that one run gives a comparison on the same inputs.
package bench

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/progress"
	"github.com/toppass/toppass/internal/workpool"
	"github.com/toppass/toppass/label"
	"github.com/toppass/toppass/sandbox"
)

// SandboxConfig is a sandbox benchmark: the same candidates labelled by the
// wasm sandbox and by a native python3 subprocess harness.
type SandboxConfig struct {
	Problems   string
	Candidates string
	Limit      int // candidates, spread evenly over the problems; 0 = all
	Workers    int // default: the number of CPUs
	Python     string
	Timeout    time.Duration
	Progress   io.Writer
}

type side struct {
	name    string
	wall    time.Duration
	lat     []time.Duration
	passed  int
	verdict []bool
	// timedOut: the run reached the limit (the budget in the sandbox,
	// the wall clock natively).
	timedOut []bool
	cold     time.Duration
	note     string
}

// Sandbox runs the benchmark and writes a table to w.
func Sandbox(ctx context.Context, cfg SandboxConfig, w io.Writer) error {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = sandbox.DefaultTimeout
	}
	probs, cands, err := load(cfg)
	if err != nil {
		return err
	}
	if len(cands) == 0 {
		return fmt.Errorf("no function-style candidates in %s", cfg.Candidates)
	}

	// The wasm sandbox; cold start = compile (from the cache) + image.
	coldStart := time.Now()
	sb, err := sandbox.New(ctx, sandbox.Config{Timeout: cfg.Timeout})
	if err != nil {
		return err
	}
	defer sb.Close(context.Background())
	wasmSide := &side{name: "wasm sandbox", cold: time.Since(coldStart),
		note: fmt.Sprintf("image %.1f MiB, init %v", float64(sb.ImageSize())/(1<<20), sb.InitTime.Round(time.Millisecond))}
	lb := &label.Labeler{SB: sb}
	err = runSide(ctx, cfg, wasmSide, len(cands), func(i int) (bool, bool, error) {
		l, err := lb.Label(ctx, probs[cands[i].TaskID], cands[i])
		if err != nil {
			return false, false, err
		}
		return l.Passed, l.ExecError == "Timeout", nil
	})
	if err != nil {
		return err
	}
	st := sb.Stats()

	nativeSide := &side{name: "native python3"}
	if python, err := realPython(ctx, cfg.Python); err != nil {
		nativeSide = nil
	} else {
		cfg.Python = python
		t := time.Now()
		if err := exec.CommandContext(ctx, cfg.Python, "-c", "pass").Run(); err != nil {
			return fmt.Errorf("%s: %w", cfg.Python, err)
		}
		nativeSide.cold = time.Since(t)
		nativeSide.note = "one subprocess per candidate: " + python
		err = runSide(ctx, cfg, nativeSide, len(cands), func(i int) (bool, bool, error) {
			r, err := label.Native(ctx, cfg.Python, label.Program(probs[cands[i].TaskID], cands[i]), cfg.Timeout)
			if err != nil {
				return false, false, err
			}
			return r.Passed, r.Status == "timeout", nil
		})
		if err != nil {
			return err
		}
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "sandbox benchmark: %d candidates of %d problems from %s, %d workers, %d CPUs, timeout %v\n\n",
		len(cands), countTasks(cands), cfg.Candidates, cfg.Workers, runtime.NumCPU(), cfg.Timeout)
	sides := []*side{wasmSide}
	if nativeSide != nil {
		sides = append(sides, nativeSide)
	}
	row := func(name string, f func(*side) string) {
		fmt.Fprintf(tw, "%s\t", name)
		for _, s := range sides {
			fmt.Fprintf(tw, "%s\t", f(s))
		}
		fmt.Fprintln(tw)
	}
	row("", func(s *side) string { return s.name })
	row("labels/s", func(s *side) string { return fmt.Sprintf("%.1f", float64(len(s.lat))/s.wall.Seconds()) })
	row("wall", func(s *side) string { return s.wall.Round(time.Millisecond).String() })
	row("p50 latency", func(s *side) string { return pct(s.lat, 50).String() })
	row("p90 latency", func(s *side) string { return pct(s.lat, 90).String() })
	row("p99 latency", func(s *side) string { return pct(s.lat, 99).String() })
	row("cold start", func(s *side) string { return s.cold.Round(time.Millisecond).String() })
	row("passed", func(s *side) string { return fmt.Sprint(s.passed) })
	row("timeouts", func(s *side) string {
		n, _ := s.timeouts()
		return fmt.Sprint(n)
	})
	row("worker time in timeouts", func(s *side) string {
		_, d := s.timeouts()
		return d.Round(time.Millisecond).String()
	})
	row("labels/s without timeouts", func(s *side) string {
		n, d := s.timeouts()
		var busy time.Duration
		for _, l := range s.lat {
			busy += l
		}
		busy -= d
		return fmt.Sprintf("%.1f", float64(len(s.lat)-n)/(busy.Seconds()/float64(cfg.Workers)))
	})
	tw.Flush()
	fmt.Fprintf(w, "\nwasm: %s; %d image restores, %d instances made\n", wasmSide.note, st.Restores, st.Instances)
	if nativeSide != nil {
		agree := 0
		for i := range wasmSide.verdict {
			if wasmSide.verdict[i] == nativeSide.verdict[i] {
				agree++
			}
		}
		ratio := nativeSide.wall.Seconds() / wasmSide.wall.Seconds()
		fmt.Fprintf(w, "native: %s\n", nativeSide.note)
		fmt.Fprintf(w, "speed-up (labels/s, wasm / native): %.2fx overall", ratio)
		if n, _ := wasmSide.timeouts(); n > 0 {
			fmt.Fprintf(w, " (a timeout costs %v of wall time natively, and in the sandbox the time it takes to spend a budget of %v of native CPython)", cfg.Timeout, cfg.Timeout)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "verdict agreement: %d/%d (%.2f%%)\n", agree, len(cands), 100*float64(agree)/float64(len(cands)))
	} else {
		fmt.Fprintf(w, "native: %s not found, skipped\n", cfg.Python)
	}
	return nil
}

// runSide runs one side; one returns the verdict and whether the run
// reached the time limit.
func runSide(ctx context.Context, cfg SandboxConfig, s *side, n int, one func(int) (bool, bool, error)) error {
	s.lat = make([]time.Duration, n)
	s.verdict = make([]bool, n)
	s.timedOut = make([]bool, n)
	var bar *progress.Bar
	if cfg.Progress != nil {
		bar = progress.New(cfg.Progress, s.name, int64(n), nil)
	}
	start := time.Now()
	// Each run writes its own slots of lat and verdict.
	err := workpool.Each(ctx, n, cfg.Workers, func(i int) error {
		t := time.Now()
		ok, timedOut, err := one(i)
		if err != nil {
			return err
		}
		s.lat[i] = time.Since(t)
		s.verdict[i], s.timedOut[i] = ok, timedOut
		if bar != nil {
			bar.Add(1)
		}
		return nil
	})
	s.wall = time.Since(start)
	if bar != nil {
		bar.Done()
	}
	for _, v := range s.verdict {
		if v {
			s.passed++
		}
	}
	return err
}

// timeouts counts the runs that reached the time limit and their time.
func (s *side) timeouts() (int, time.Duration) {
	n, d := 0, time.Duration(0)
	for i, l := range s.lat {
		if s.timedOut[i] {
			n++
			d += l
		}
	}
	return n, d
}

func pct(lat []time.Duration, p int) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := min(len(s)-1, (len(s)*p+99)/100-1)
	return s[max(i, 0)].Round(10 * time.Microsecond)
}

func countTasks(c []*dataset.Candidate) int {
	m := map[string]bool{}
	for _, x := range c {
		m[x.TaskID] = true
	}
	return len(m)
}

// load reads the function-style candidates, taking at most Limit spread
// evenly over the problems (the first ones of each).
func load(cfg SandboxConfig) (map[string]*dataset.Problem, []*dataset.Candidate, error) {
	fail := func(e *dataset.LineError) error { return e }
	probs, _, err := dataset.ReadProblems(cfg.Problems, fail)
	if err != nil {
		return nil, nil, err
	}
	byTask := map[string][]*dataset.Candidate{}
	var order []string
	err = dataset.ReadCandidates(cfg.Candidates, func(c *dataset.Candidate) error {
		p, ok := probs[c.TaskID]
		if !ok || p.Kind() != dataset.KindFunction {
			return nil
		}
		if _, seen := byTask[c.TaskID]; !seen {
			order = append(order, c.TaskID)
		}
		byTask[c.TaskID] = append(byTask[c.TaskID], c)
		return nil
	}, fail)
	if err != nil {
		return nil, nil, err
	}
	per := 1 << 30
	if cfg.Limit > 0 && len(order) > 0 {
		per = max(1, (cfg.Limit+len(order)-1)/len(order))
	}
	var out []*dataset.Candidate
	for _, t := range order {
		cs := byTask[t]
		out = append(out, cs[:min(per, len(cs))]...)
	}
	if cfg.Limit > 0 && len(out) > cfg.Limit {
		out = out[:cfg.Limit]
	}
	return probs, out, nil
}

// realPython resolves an interpreter to its executable: launchers such as
// pyenv's shims are shell scripts that would add tens of milliseconds to
// every native run and make the comparison unfair.
func realPython(ctx context.Context, python string) (string, error) {
	if _, err := exec.LookPath(python); err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, python, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return "", err
	}
	if p := strings.TrimSpace(string(out)); p != "" {
		return p, nil
	}
	return python, nil
}
