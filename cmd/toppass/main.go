// Command toppass picks the candidate programs most likely to pass: it
// labels candidates in a WebAssembly sandbox, and (in later commands)
// ranks them. This file only wires flags to packages.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/toppass/toppass/bench"
	"github.com/toppass/toppass/daemon"
	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/hybrid"
	"github.com/toppass/toppass/label"
	"github.com/toppass/toppass/metrics"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/sandbox"
	"github.com/toppass/toppass/static"
	"github.com/toppass/toppass/wasm"
)

type cli struct {
	Verbose    bool   `short:"v" help:"Log debug details."`
	CPUProfile string `name:"cpu-profile" help:"Write a CPU profile of the command here (go tool pprof reads it)."`

	Label          labelCmd          `cmd:"" help:"Run candidates against their problems' tests in the sandbox and write one label per candidate."`
	Rank           rankCmd           `cmd:"" help:"Score candidates for ranking (method codet: dual agreement with model-generated tests, run in the sandbox)."`
	Eval           evalCmd           `cmd:"" help:"Random and ranked pass@k, exec@k and the oracle, per dataset, from labels (and scores)."`
	Train          trainCmd          `cmd:"" help:"Train the neural ranker (GoMLX) on labelled candidates; resumes an interrupted run."`
	Ensemble       ensembleCmd       `cmd:"" help:"Join models trained with the same config and tokenizer (other seeds) into one whose predictions average theirs."`
	Mutate         mutateCmd         `cmd:"" help:"Write reference solutions and mutants of them (operator, boundary, off-by-one, condition, dropped statement) as candidates to label: training data with near-miss negatives."`
	CV             cvCmd             `cmd:"" name:"cv" help:"Problem-disjoint k-fold cross-validation of the neural ranker: train on the other folds, score the held-out one."`
	Generalization generalizationCmd `cmd:"" help:"Measure ranking on problems and generators the ranker never saw: per set and generator, random, oracle, the baselines that learn nothing (lexical consensus; examples + consensus) and toppass's methods, as ranked pass@1 and gap closed."`
	Fuse           fuseCmd           `cmd:"" help:"Fuse neural scores with execution evidence: estimate by problem-disjoint folds (--out) and/or fit the hybrid ranker's fusion (--save)."`
	ExportRRTF     exportRRTFCmd     `cmd:"" name:"export-rrtf" help:"Write ranked-response preference data (prompt, responses ordered by label then score) for aligning a generator, as PanGu-Coder2's RRTF uses it."`
	Bench          benchCmd          `cmd:"" help:"Measure toppass's components."`
	Calibrate      calibrateCmd      `cmd:"" help:"Measure the sandbox's fuel against native CPython on reference programs: how much fuel one second of native CPython is worth (the constant behind --timeout)."`
	Version        versionCmd        `cmd:"" help:"Print the version of the embedded CPython build (CPython, clang, wasi-libc)."`

	Daemon    daemonCmd    `cmd:"" help:"Run the toppass daemon in the foreground (for systemd or launchd; clients start it when needed). It watches problem folders, labels, ranks and fine-tunes."`
	Status    statusCmd    `cmd:"" help:"Show the daemon's state: labels, pending candidates, model, jobs, watched folders. Exits non-zero when it is not running (never starts it)."`
	Stop      stopCmd      `cmd:"" help:"Stop the daemon: running jobs commit or checkpoint what they did (never starts it)."`
	Logs      logsCmd      `cmd:"" help:"Print the daemon's log (-f: follow it)."`
	Watch     watchCmd     `cmd:"" help:"Watch a problem set folder: the daemon labels its candidates and keeps up with changes (starts the daemon)."`
	Model     modelCmd     `cmd:"" help:"List the ranker models or switch to one (starts the daemon)."`
	Dashboard dashboardCmd `cmd:"" help:"Print the local dashboard's address (with its token) and open it in the browser when there is a display (starts the daemon)."`
	Export    exportCmd    `cmd:"" help:"Export what the daemon stored (starts the daemon)."`

	LSP lspCmd `cmd:"" name:"lsp" help:"Run the language server on stdio: code actions offer the top-ranked candidates for the function at the cursor (starts the daemon when needed). editors/ has setups for VS Code, Neovim, Emacs and Helix."`
}

// ByteSize is a size such as 512MiB, 1GiB, 64M or a plain number of bytes.
type ByteSize = daemon.ByteSize

type sandboxFlags struct {
	Timeout     time.Duration `default:"5s" help:"Time budget per candidate (per test case for stdin/stdout problems), in seconds of native CPython; counted inside the sandbox, so the same on an idle, busy or slow machine."`
	WallTimeout time.Duration `default:"0s" help:"Wall-clock backstop per run (0: 60 x the budget + 10s); a run stopped by it is labelled wall_timeout."`
	Memory      ByteSize      `default:"512MiB" help:"Memory limit per candidate."`
	Output      ByteSize      `default:"1MiB" help:"Limit on stdout and stderr, each, per candidate."`
}

func (f sandboxFlags) config() sandbox.Config {
	return sandbox.Config{Timeout: f.Timeout, WallTimeout: f.WallTimeout, MemoryLimit: int64(f.Memory), OutputLimit: int(f.Output)}
}

type labelCmd struct {
	Problems   string `required:"" type:"existingfile" help:"Problems JSONL(.gz): HumanEval/LeetCode/MBPP (function + tests), APPS/CodeContests (stdin/stdout or fn_name)."`
	Candidates string `required:"" type:"existingfile" help:"Candidates JSONL(.gz): task_id, index, and completion (continues the prompt) or solution (whole program)."`
	Out        string `required:"" help:"Labels JSONL to append to; candidates already in it are skipped (resume)."`
	Workers    int    `default:"0" help:"Concurrent runs (0: one per CPU)."`
	Plus       bool   `help:"Use HumanEval+ inputs (base_input + plus_input) where a problem has them."`
	sandboxFlags
}

func (c *labelCmd) Run(ctx context.Context) error {
	sum, err := label.Run(ctx, label.RunConfig{
		Problems: c.Problems, Candidates: c.Candidates, Out: c.Out, Workers: c.Workers,
		Sandbox: c.config(), Options: label.Options{Plus: c.Plus}, Progress: os.Stderr,
	})
	if sum != nil {
		slog.Info(sum.String(), "out", c.Out)
		if sum.Labelled > 0 {
			fmt.Printf("%d labelled, %d passed (%.1f%%) -> %s\n", sum.Labelled, sum.Passed,
				100*float64(sum.Passed)/float64(sum.Labelled), c.Out)
		}
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted: labels so far are in " + c.Out + "; run the same command again to resume")
	}
	return err
}

type rankCmd struct {
	Method       string `default:"neural" enum:"neural,hybrid,lexical,codet,exec" help:"neural: the GoMLX ranker (no execution); hybrid: the neural score fused with the execution evidence (examples, generated tests, behaviour clusters); lexical: unsupervised lexical consensus (mean bigram Jaccard similarity to the other candidates); codet: dual agreement with generated tests; exec: the prompt's examples first, then dual agreement."`
	ModelDir     string `help:"neural: model directory from 'toppass train' (default: the shipped model)."`
	Backend      string `default:"go" help:"neural: GoMLX backend (go, or xla:cuda in a -tags xla build)."`
	Fusion       string `type:"existingfile" help:"hybrid: fusion model from 'toppass fuse --save' (default: the rule)."`
	Calibration  string `type:"existingfile" help:"hybrid: the P(pass) model, refit on labelled sets of your own with 'toppass generalization --save-calibration' (default: the shipped one)."`
	CacheDir     string `help:"Keep per-candidate features here (probes.jsonl, static.jsonl) and reuse them: a rerun, or a problem that gained candidates, only runs what is new."`
	Rule         bool   `help:"hybrid: fuse with the rule (examples first, then a weighted mean of the neural, lexical consensus, behaviour and agreement ranks) even when --fusion is given."`
	SelfInputs   int    `default:"24" help:"hybrid, exec: inputs toppass makes per function-style problem (the examples' inputs mutated by type, or drawn from the signature's type hints); every candidate is called on them and ranked by agreement with the others' behaviour. 0: none."`
	ExamplesFrom string `type:"existingfile" help:"exec: take the examples from these problems' prompts (default: --problems)."`
	Problems     string `required:"" type:"existingfile" help:"Problems JSONL."`
	Candidates   string `required:"" type:"existingfile" help:"Candidates JSONL."`
	Tests        string `type:"existingfile" help:"Model-generated tests: {task_id, samples} continuing 'assert ' (CodeT's format) or {task_id, tests}; required for codet."`
	Out          string `required:"" help:"Scores JSONL to write ({task_id, index, score, ...})."`
	PerSample    int    `default:"5" help:"Asserts kept per generated sample (CodeT keeps 5)."`
	Workers      int    `default:"0" help:"Concurrent runs (0: one per CPU)."`
	Daemon       bool   `help:"Ask the daemon (started if needed) to rank, problem by problem: its model, its caches and its limits (hybrid, neural, lexical, exec)."`
	sandboxFlags
}

// analyser starts the static analyser, with its cache in --cache-dir.
func (c *rankCmd) analyser(ctx context.Context) (*static.Analyser, error) {
	return newAnalyser(ctx, c.Workers, c.CacheDir)
}

// newAnalyser starts the static analyser; with a cache directory its
// findings are kept in static.jsonl there and reused.
func newAnalyser(ctx context.Context, workers int, cacheDir string) (*static.Analyser, error) {
	an, err := static.New(ctx, workers)
	if err != nil {
		return nil, err
	}
	if cacheDir != "" {
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			an.Close(ctx)
			return nil, err
		}
		if err := an.UseCache(filepath.Join(cacheDir, "static.jsonl")); err != nil {
			an.Close(ctx)
			return nil, err
		}
	}
	return an, nil
}

// openProbeCache opens probes.jsonl in a cache directory; the returned
// function logs its hits and closes it.
func openProbeCache(cacheDir string) (*execrank.ProbeCache, func(), error) {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, nil, err
	}
	pc, err := execrank.OpenProbeCache(filepath.Join(cacheDir, "probes.jsonl"))
	if err != nil {
		return nil, nil, err
	}
	return pc, func() {
		slog.Info("probe cache", "hits", pc.Hits())
		pc.Close()
	}, nil
}

// execConfig is the execution side of codet, exec and hybrid.
func (c *rankCmd) execConfig(method string) (execrank.RankConfig, func(), error) {
	cfg := execrank.RankConfig{
		Method: method, ExamplesFrom: c.ExamplesFrom, Problems: c.Problems, Candidates: c.Candidates, Tests: c.Tests, Out: c.Out,
		PerSample: c.PerSample, Workers: c.Workers, Sandbox: c.config(), Progress: os.Stderr, SelfInputs: c.SelfInputs,
	}
	if c.CacheDir == "" {
		return cfg, func() {}, nil
	}
	pc, done, err := openProbeCache(c.CacheDir)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Cache = pc
	return cfg, done, nil
}

// neural loads the model and starts the static analyser.
func (c *rankCmd) neural(ctx context.Context) (*ranker.Model, *static.Analyser, error) {
	m, err := loadModel(c.Backend, c.ModelDir)
	if err != nil {
		return nil, nil, err
	}
	an, err := c.analyser(ctx)
	return m, an, err
}

func (c *rankCmd) Run(ctx context.Context) error {
	if c.Daemon {
		return c.viaDaemon(ctx)
	}
	if c.Method == "hybrid" {
		m, an, err := c.neural(ctx)
		if err != nil {
			return err
		}
		defer an.Close(ctx)
		ecfg, done, err := c.execConfig(execrank.MethodExec)
		if err != nil {
			return err
		}
		defer done()
		var fusion *hybrid.Fusion
		if c.Fusion != "" && !c.Rule {
			if fusion, err = hybrid.Load(c.Fusion); err != nil {
				return err
			}
		}
		var cal *hybrid.Fusion
		if c.Calibration != "" {
			if cal, err = hybrid.Load(c.Calibration); err != nil {
				return fmt.Errorf("--calibration %s: %w", c.Calibration, err)
			}
		}
		return hybrid.Rank(ctx, hybrid.Config{Exec: ecfg, Model: m, Analyse: an.All, Fusion: fusion, Calibration: cal, Out: c.Out, Progress: os.Stderr})
	}
	if c.Method == "neural" || c.Method == "lexical" {
		m, an, err := c.neural(ctx)
		if err != nil {
			return err
		}
		defer an.Close(ctx)
		return ranker.RankFiles(ctx, m, c.Problems, c.Candidates, c.Out, c.Method == "lexical", an.All, os.Stderr)
	}
	ecfg, done, err := c.execConfig(c.Method)
	if err != nil {
		return err
	}
	defer done()
	return execrank.Rank(ctx, ecfg)
}

type evalCmd struct {
	Labels   string `required:"" type:"existingfile" help:"Labels JSONL from 'toppass label'."`
	Scores   string `type:"existingfile" help:"Scores JSONL ({task_id, index, score}, higher is better) for ranked figures."`
	Problems string `type:"existingfile" help:"Only count these problems (and report problems without labels)."`
	K        []int  `default:"1,2,5,10" help:"The k of pass@k."`
	Out      string `help:"Also write the report as JSON here."`
}

func (c *evalCmd) Run() error {
	var bad dataset.ErrorLog
	onErr := bad.Add
	byKey, _, err := dataset.ReadLabels(c.Labels, onErr)
	if err != nil {
		return err
	}
	var keep map[string]*dataset.Problem
	if c.Problems != "" {
		if keep, _, err = dataset.ReadProblems(c.Problems, onErr); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	var labels []*dataset.Label
	for _, l := range byKey {
		if keep != nil && keep[l.TaskID] == nil {
			continue
		}
		seen[l.TaskID] = true
		labels = append(labels, l)
	}
	for id := range keep {
		if !seen[id] {
			slog.Warn("problem has no labels", "task", id)
		}
	}
	var scores map[dataset.Key]float64
	if c.Scores != "" {
		if scores, err = metrics.ReadScores(c.Scores, onErr); err != nil {
			return err
		}
	}
	rep := metrics.Evaluate(labels, scores, c.K)
	rep.Print(os.Stdout)
	if c.Out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(c.Out, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return bad.Err()
}

type benchCmd struct {
	Sandbox benchSandboxCmd `cmd:"" help:"Labels/s and latency of the wasm sandbox against a native python3 subprocess harness, on the same candidates."`
	Ranker  benchRankerCmd  `cmd:"" help:"Neural ranker speed: time to score 20 and 200 candidates, sequences/s, a training step, GFLOP/s next to the CPU's peak."`
	Hybrid  benchHybridCmd  `cmd:"" help:"Hybrid ranking time per problem, by stage: execution probes, static analysis, neural model, fusion."`
	Daemon  benchDaemonCmd  `cmd:"" help:"The daemon under load: concurrent clients asking for rankings (cached and fresh) on its socket while it labels a set; latency percentiles, requests/s, labelling throughput against toppass label alone."`
	LSP     benchLSPCmd     `cmd:"" name:"lsp" help:"The language server: code-action latency with cached candidates, generate + rank latency, beside the daemon's own ranking; how often candidate #1 passes against the same method offline."`
}

type benchLSPCmd struct {
	Data    string `env:"TOPPASS_DATA" default:"../shared/data" help:"The shared benchmark data folder (HumanEval, CodeGen-16B samples and their native labels)."`
	Limit   int    `default:"0" help:"Problems (0: all 164)."`
	N       int    `default:"10" help:"Candidates generated per problem (the first N CodeGen-16B samples, served on loopback)."`
	Actions int    `default:"20" help:"Code-action requests per problem once its candidates are ranked."`
	Method  string `default:"hybrid" enum:"hybrid,neural,lexical,exec" help:"Ranking method."`
}

func (c *benchLSPCmd) Run(ctx context.Context) error {
	he := filepath.Join(c.Data, "humaneval")
	labels := filepath.Join(he, "codegen16b-labels-native.jsonl")
	if !isFile(labels) {
		return fmt.Errorf("bench lsp needs the shared data (%s not found; set --data or TOPPASS_DATA)", labels)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return bench.LSP(ctx, bench.LSPConfig{Problems: filepath.Join(he, "problems.jsonl"), Candidates: filepath.Join(he, "codegen16b-t0.8-n100.jsonl"),
		Labels: labels, Exe: exe, Limit: c.Limit, N: c.N, Actions: c.Actions, Method: c.Method, Progress: os.Stderr}, os.Stdout)
}

type benchDaemonCmd struct {
	Data    string        `env:"TOPPASS_DATA" default:"../shared/data" help:"The shared benchmark data folder (HumanEval x CodeGen-16B; else the shipped sample)."`
	Limit   int           `default:"3280" help:"Candidates to label, spread over the problems."`
	Clients int           `default:"20" help:"Concurrent clients."`
	Rate    float64       `default:"10" help:"Requests per second per client (0: back to back, a stress test)."`
	Fresh   time.Duration `default:"2s" help:"One more client asks for a ranking the daemon has not seen this often."`
	Workers int           `default:"0" help:"The daemon's CPU budget (0: one per CPU)."`
	Timeout time.Duration `default:"5s" help:"Time budget per candidate."`
}

func (c *benchDaemonCmd) Run(ctx context.Context) error {
	problems, candidates := defaultBenchData(c.Data, "", "")
	native := filepath.Join(c.Data, "humaneval", "codegen16b-labels-native.jsonl")
	if !isFile(native) || !strings.Contains(candidates, "codegen16b") {
		native = ""
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return bench.Daemon(ctx, bench.DaemonConfig{Problems: problems, Candidates: candidates, Native: native, Limit: c.Limit,
		Clients: c.Clients, Rate: c.Rate, FreshEvery: c.Fresh, Workers: c.Workers, Timeout: c.Timeout, Exe: exe, Progress: os.Stderr}, os.Stdout)
}

type benchHybridCmd struct {
	Data       string        `env:"TOPPASS_DATA" default:"../shared/data" help:"The shared benchmark data folder (HumanEval, its candidates, CodeGen-16B's generated tests)."`
	Candidates string        `default:"paircoder" enum:"paircoder,codegen" help:"paircoder: 30 candidates per problem from gpt-4o, deepseek-coder and gpt-3.5-turbo; codegen: CodeGen-16B's 100, with its generated tests."`
	Problems   int           `default:"20" help:"Problems to time."`
	PerProblem int           `default:"0" help:"Candidates per problem (0: all of the set's)."`
	SelfInputs int           `default:"24" help:"Inputs toppass makes per problem (0: none)."`
	Timeout    time.Duration `default:"5s" help:"Time budget per candidate's probe run."`
	Workers    int           `default:"0" help:"Concurrent sandbox runs (0: one per CPU)."`
	Backend    string        `default:"go" help:"GoMLX backend."`
}

func (c *benchHybridCmd) Run(ctx context.Context) error {
	he := filepath.Join(c.Data, "humaneval")
	m, err := loadModel(c.Backend, "")
	if err != nil {
		return err
	}
	an, err := static.New(ctx, c.Workers)
	if err != nil {
		return err
	}
	defer an.Close(ctx)
	cfg := bench.HybridConfig{Problems: filepath.Join(he, "problems.jsonl"), ExamplesFrom: filepath.Join(he, "humanevalplus.jsonl.gz"),
		Candidates: filepath.Join(he, "paircoder-3models-n30.jsonl"), SelfInputs: c.SelfInputs, Workers: c.Workers,
		Sandbox: sandbox.Config{Timeout: c.Timeout}, Model: m, Analyse: an.All, NProblems: c.Problems, PerProblem: c.PerProblem}
	if c.Candidates == "codegen" {
		cfg.Candidates, cfg.Tests = filepath.Join(he, "codegen16b-t0.8-n100.jsonl"), filepath.Join(he, "codegen16b-generated-tests.jsonl")
	}
	return bench.Hybrid(ctx, cfg, os.Stdout)
}

type benchRankerCmd struct {
	ModelDir   string `help:"Model directory (default: the shipped model)."`
	Backend    string `default:"go" help:"GoMLX backend (go, or xla:cuda in a -tags xla build)."`
	Problems   string `help:"Problems JSONL (default: HumanEval in the shared data, else the shipped sample)."`
	Candidates string `help:"Candidates JSONL (default: CodeGen-16B HumanEval candidates in the shared data, else the sample)."`
	Data       string `env:"TOPPASS_DATA" default:"../shared/data" help:"The shared benchmark data folder."`
	Repeats    int    `default:"5" help:"Timed repetitions of each case (the median is reported)."`
	EndToEnd   []int  `default:"200,2000" help:"Also time 'toppass rank --method neural' from files on the next problems' candidates, about this many (each size on problems of its own); empty: skip."`
}

func (c *benchRankerCmd) Run(ctx context.Context) error {
	c.Problems, c.Candidates = defaultBenchData(c.Data, c.Problems, c.Candidates)
	m, err := loadModel(c.Backend, c.ModelDir)
	if err != nil {
		return err
	}
	be := m.Backend
	an, err := static.New(ctx, 0)
	if err != nil {
		return err
	}
	defer an.Close(ctx)
	cfg := bench.RankerConfig{Model: m, Backend: be, Problems: c.Problems, Candidates: c.Candidates, Repeats: c.Repeats, Analyse: an.All}
	if err := bench.Ranker(ctx, cfg, os.Stdout); err != nil {
		return err
	}
	if len(c.EndToEnd) == 0 {
		return nil
	}
	return bench.RankEndToEnd(ctx, cfg, c.EndToEnd, os.Stdout)
}

// defaultBenchData picks HumanEval × CodeGen-16B from the shared data when
// it is there, else the shipped sample, unless both files are given.
func defaultBenchData(data, problems, candidates string) (string, string) {
	if problems != "" && candidates != "" {
		return problems, candidates
	}
	he := filepath.Join(data, "humaneval")
	if isFile(filepath.Join(he, "problems.jsonl")) {
		return filepath.Join(he, "problems.jsonl"), filepath.Join(he, "codegen16b-t0.8-n100.jsonl")
	}
	return "testdata/sample/problems.jsonl", "testdata/sample/candidates.jsonl"
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

type benchSandboxCmd struct {
	Problems   string        `help:"Problems JSONL (default: HumanEval in the shared data, else the shipped sample)."`
	Candidates string        `help:"Candidates JSONL (default: CodeGen-16B HumanEval candidates in the shared data, else the sample)."`
	Data       string        `env:"TOPPASS_DATA" default:"../shared/data" help:"The shared benchmark data folder."`
	Limit      int           `default:"1640" help:"Candidates to run, spread over the problems (0: all)."`
	Workers    int           `default:"0" help:"Concurrent runs on each side (0: one per CPU)."`
	Python     string        `default:"python3" help:"The native interpreter."`
	Timeout    time.Duration `default:"5s" help:"Per-candidate limit on both sides."`
}

func (c *benchSandboxCmd) Run(ctx context.Context) error {
	c.Problems, c.Candidates = defaultBenchData(c.Data, c.Problems, c.Candidates)
	return bench.Sandbox(ctx, bench.SandboxConfig{
		Problems: c.Problems, Candidates: c.Candidates, Limit: c.Limit, Workers: c.Workers,
		Python: c.Python, Timeout: c.Timeout, Progress: os.Stderr,
	}, os.Stdout)
}

type calibrateCmd struct {
	Data     string        `env:"TOPPASS_DATA" default:"../shared/data" help:"The shared data folder: HumanEval's canonical solutions join the corpus when it is there."`
	Problems string        `help:"Problems whose canonical solutions and check() join the corpus (default: HumanEval in --data, if present)."`
	Limit    int           `default:"0" help:"Problems to use (0: all)."`
	Python   string        `default:"python3" help:"The native CPython 3.11 to compare with."`
	Target   time.Duration `default:"200ms" help:"Native time per measurement (calls are repeated to reach it)."`
	JSON     string        `name:"json" help:"Also write every measurement to this file."`
}

func (c *calibrateCmd) Run(ctx context.Context) error {
	if c.Problems == "" {
		if p := filepath.Join(c.Data, "humaneval", "problems.jsonl"); isFile(p) {
			c.Problems = p
		}
	}
	cal, err := bench.Calibrate(ctx, bench.CalibrateConfig{Python: c.Python, Problems: c.Problems, Limit: c.Limit,
		Target: c.Target, Progress: os.Stderr}, os.Stdout)
	if err != nil || c.JSON == "" {
		return err
	}
	b, err := json.MarshalIndent(cal, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(c.JSON, append(b, '\n'), 0o644)
}

type versionCmd struct{}

func (versionCmd) Run() error {
	fmt.Print("toppass; sandbox: ", wasm.Version())
	return nil
}

func options() []kong.Option {
	return []kong.Option{
		kong.Name("toppass"),
		kong.Description("toppass picks the LLM-generated programs most likely to pass. Offline, sandboxed."),
		kong.UsageOnError(),
	}
}

func main() {
	var c cli
	parser := kong.Must(&c, options()...)
	kctx, err := parser.Parse(os.Args[1:])
	parser.FatalIfErrorf(err)
	level := slog.LevelInfo
	if c.Verbose {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.BindTo(ctx, (*context.Context)(nil))
	var profile *os.File
	if c.CPUProfile != "" {
		if profile, err = os.Create(c.CPUProfile); err == nil {
			err = pprof.StartCPUProfile(profile)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "toppass:", err)
			os.Exit(1)
		}
	}
	err = kctx.Run()
	if profile != nil {
		pprof.StopCPUProfile()
		profile.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "toppass:", err)
		os.Exit(1)
	}
}
