package bench

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/progress"
	"github.com/toppass/toppass/sandbox"
)

// The calibration corpus: each program defines work(), one typical unit of
// what candidate programs do (bytecode loops, calls, objects, strings,
// dicts, sorting, big integers, floats, regular expressions, the library).
//
//go:embed calibrate/*.py
var calibrationCorpus embed.FS

// CalibrateConfig is a calibration of the sandbox's fuel against native
// CPython: how much fuel one second of native CPython is worth.
type CalibrateConfig struct {
	Python string
	// Problems, when set, adds every HumanEval-style problem of the file
	// whose canonical solution passes: its check(entry point) is a program.
	Problems string
	Limit    int           // problems to use, 0 = all
	Target   time.Duration // native time per measurement (default 200 ms)
	Progress io.Writer
}

// CalibrationRow is one program's measurement.
type CalibrationRow struct {
	Group  string  `json:"group"`
	Name   string  `json:"name"`
	Reps   int     `json:"reps"`
	Native float64 `json:"native_s"` // best of 3, for Reps calls
	Fuel   int64   `json:"fuel"`     // for Reps calls
	Wall   float64 `json:"sandbox_s"`
}

// FuelPerSecond is the row's fuel per second of native CPython.
func (r CalibrationRow) FuelPerSecond() float64 { return float64(r.Fuel) / r.Native }

// Calibration is the result: every row and a summary.
type Calibration struct {
	Rows []CalibrationRow `json:"rows"`
	// Suggested is the constant the corpus supports: the largest fuel per
	// native second seen, so that a program that finishes within a limit
	// natively finishes within the same budget in the sandbox.
	Suggested float64 `json:"suggested_fuel_per_second"`
	Current   float64 `json:"current_fuel_per_second"`
}

type calProgram struct{ group, name, src string }

// Calibrate measures every program natively (python3, in-process timer,
// best of three) and in the sandbox (fuel), and writes a table to w.
func Calibrate(ctx context.Context, cfg CalibrateConfig, w io.Writer) (*Calibration, error) {
	if cfg.Target <= 0 {
		cfg.Target = 200 * time.Millisecond
	}
	if cfg.Python == "" {
		cfg.Python = "python3"
	}
	if _, err := exec.LookPath(cfg.Python); err != nil {
		return nil, fmt.Errorf("calibration needs a native CPython 3.11 (%s): %w", cfg.Python, err)
	}
	progs, err := calibrationPrograms(cfg)
	if err != nil {
		return nil, err
	}
	sb, err := sandbox.New(ctx, sandbox.Config{Timeout: time.Hour, WallTimeout: time.Hour})
	if err != nil {
		return nil, err
	}
	defer sb.Close(context.Background())

	var bar *progress.Bar
	if cfg.Progress != nil {
		bar = progress.New(cfg.Progress, "calibrate", int64(len(progs)), nil)
	}
	cal := &Calibration{Current: sandbox.FuelPerSecond}
	for _, p := range progs {
		row, err := calibrateOne(ctx, cfg, sb, p)
		if bar != nil {
			bar.Add(1)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			fmt.Fprintf(w, "skipped %s/%s: %v\n", p.group, p.name, err)
			continue
		}
		cal.Rows = append(cal.Rows, *row)
	}
	if bar != nil {
		bar.Done()
	}
	if len(cal.Rows) == 0 {
		return nil, errors.New("no program could be measured")
	}
	for _, r := range cal.Rows {
		cal.Suggested = max(cal.Suggested, r.FuelPerSecond())
	}
	cal.write(w)
	return cal, nil
}

func calibrationPrograms(cfg CalibrateConfig) ([]calProgram, error) {
	var progs []calProgram
	files, err := calibrationCorpus.ReadDir("calibrate")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := calibrationCorpus.ReadFile(path.Join("calibrate", f.Name()))
		if err != nil {
			return nil, err
		}
		progs = append(progs, calProgram{"corpus", strings.TrimSuffix(f.Name(), ".py"), string(b)})
	}
	if cfg.Problems == "" {
		return progs, nil
	}
	probs, order, err := dataset.ReadProblems(cfg.Problems, func(e *dataset.LineError) error { return e })
	if err != nil {
		return nil, err
	}
	for i, id := range order {
		if cfg.Limit > 0 && i >= cfg.Limit {
			break
		}
		p := probs[id]
		if p.CanonicalSolution == "" || !strings.Contains(p.Test, "def check(") || p.EntryPoint == "" {
			continue
		}
		src := p.Prompt + p.CanonicalSolution + "\n\n" + p.Test + "\n\ndef work():\n    check(" + p.EntryPoint + ")\n"
		progs = append(progs, calProgram{"problems", id, src})
	}
	return progs, nil
}

// calibrationDriver runs work() reps times after the program is loaded; a
// native run with reps < 0 first picks reps to last about target.
const calibrationDriver = `import math as _m, time as _t
_ns = {"__name__": "__calibration__"}
exec(compile(%s, "<program>", "exec"), _ns)
_work, _reps, _target = _ns["work"], %d, %g
if _reps < 0:
    _s = _t.perf_counter(); _work(); _one = _t.perf_counter() - _s
    _reps = max(1, min(100000, _m.ceil(_target / max(_one, 1e-7))))
    _best = float("inf")
    for _ in range(3):
        _s = _t.perf_counter()
        for _ in range(_reps):
            _work()
        _best = min(_best, _t.perf_counter() - _s)
    print(_reps, _best)
else:
    for _ in range(_reps):
        _work()
`

func calibrateOne(ctx context.Context, cfg CalibrateConfig, sb *sandbox.Sandbox, p calProgram) (*CalibrationRow, error) {
	src, _ := json.Marshal(p.src)
	driver := func(reps int) string {
		// A JSON string is a Python string literal too.
		return fmt.Sprintf(calibrationDriver, src, reps, cfg.Target.Seconds())
	}
	runCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, cfg.Python, "-c", driver(-1))
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("native run: %w", err)
	}
	var row = CalibrationRow{Group: p.group, Name: p.name}
	if _, err := fmt.Sscan(string(out), &row.Reps, &row.Native); err != nil || row.Native <= 0 {
		return nil, fmt.Errorf("native run printed %q", out)
	}
	// Fuel of the measured calls: a run with them minus one without.
	var fuel [2]int64
	for i, reps := range []int{0, row.Reps} {
		res, err := sb.Run(ctx, &sandbox.Request{Mode: sandbox.ModeScript, Source: driver(reps), CandLine: 1})
		if err != nil {
			return nil, err
		}
		if res.Stop != sandbox.StopOK {
			return nil, fmt.Errorf("sandbox run: %s %s %s", res.Stop, res.Exception, res.Message)
		}
		fuel[i] = res.Fuel
		if i == 1 {
			row.Wall = res.Duration.Seconds()
		}
	}
	row.Fuel = fuel[1] - fuel[0]
	return &row, nil
}

func (c *Calibration) write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "group\tprogram\treps\tnative s\tfuel\tMfuel/native s\tsandbox s\tsandbox/native\t")
	groups := map[string][]float64{}
	for _, r := range c.Rows {
		groups[r.Group] = append(groups[r.Group], r.FuelPerSecond())
		if r.Group == "corpus" {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%d\t%.1f\t%.3f\t%.2f\t\n", r.Group, r.Name, r.Reps, r.Native, r.Fuel,
				r.FuelPerSecond()/1e6, r.Wall, r.Wall/r.Native)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "group\tprograms\tMfuel/native s: min\tp10\tp50\tp90\tp99\tmax\t")
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		v := groups[g]
		slices.Sort(v)
		q := func(p float64) float64 { return v[int(math.Round(p*float64(len(v)-1)))] / 1e6 }
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", g, len(v), q(0), q(0.1), q(0.5), q(0.9), q(0.99), q(1))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nsuggested FuelPerSecond (largest seen): %.0f; in use: %.0f\n", c.Suggested, c.Current)
}
