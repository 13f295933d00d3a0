// Package sandbox runs untrusted Python programs inside CPython compiled to
// WebAssembly (package wasm), hosted by wazero in this process.
//
// Why WebAssembly: a candidate program is code a language model wrote; it may
// read files, open sockets, fork, loop forever or allocate without end. In
// wasm32-wasi it has no syscalls but the WASI functions wazero gives it, and
// toppass gives it none that reach the host: the file system is the
// read-only standard library held in memory, there is no network, no host
// environment, stdin is a buffer, and time, memory and output are bounded.
//
// Why a snapshot: starting CPython costs tens of milliseconds and importing
// common modules hundreds. The embedded module is a reactor whose init
// starts the interpreter and runs the harness (harness.py), which imports
// what candidates commonly use. The sandbox copies the resulting linear
// memory once (the image) and restores it before every run: each candidate
// gets a fresh interpreter, and nothing it did is visible to the next one,
// for the price of a memory copy. State outside linear memory (open file
// descriptors, memory size) is checked after each run, and an instance that
// differs from the image is replaced.
//
// Why fuel: the time limit is a budget counted inside the module, not wall
// time, so that a label does not depend on the machine or its load (see
// fuel.go).
package sandbox

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/toppass/toppass/sandbox/internal/instrument"
	"github.com/toppass/toppass/wasm"
)

//go:embed harness.py
var harnessSource []byte

// Defaults for Config.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultMemoryLimit = 512 << 20
	DefaultOutputLimit = 1 << 20
	pageSize           = 65536
)

// Config sets the limits of every run.
type Config struct {
	// Timeout is the time budget of one Run in seconds of native CPython
	// (default 5 s), counted as fuel inside the sandbox: the same on every
	// machine, busy or idle (fuel.go).
	Timeout time.Duration
	// WallTimeout is the wall-clock backstop of one Run (default
	// WallFactor × the budget + WallSlack); a run stopped by it ends as
	// StopWallTimeout.
	WallTimeout time.Duration
	// MemoryLimit is the most linear memory a program may use, in bytes
	// (default 512 MiB; at least the interpreter image, about 30 MiB).
	MemoryLimit int64
	// OutputLimit caps stdout and stderr, each, in bytes (default 1 MiB); a
	// program that writes more is stopped.
	OutputLimit int
	// CacheDir holds wazero's compilation cache. Empty means the user cache
	// directory; "off" disables the on-disk cache.
	CacheDir string
	// Seed seeds the random source the program sees (os.urandom); every run
	// starts from the same seed, so labels are reproducible.
	Seed uint64

	// stopper is how runs are stopped (see interrupt.go); tests and
	// benchmarks set it to compare.
	stopper stopper
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MemoryLimit <= 0 {
		c.MemoryLimit = DefaultMemoryLimit
	}
	if c.OutputLimit <= 0 {
		c.OutputLimit = DefaultOutputLimit
	}
	return c
}

// Sandbox runs programs. It is safe for concurrent use: each concurrent Run
// gets its own wasm instance, made from the shared image.
type Sandbox struct {
	cfg      Config
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	fsys     fs.FS

	image     []byte // linear memory after init
	imageFrom uint32 // first byte to restore: below it is the idle stack
	fds       uint32 // open descriptors after init

	mu     sync.Mutex
	idle   []*instance
	closed bool

	// Counters, for benchmarks and tests.
	InitTime  time.Duration
	restores  atomic.Int64
	instances atomic.Int64
}

// Stats counts what the sandbox did.
type Stats struct {
	Restores  int64 // image restores into a reused instance
	Instances int64 // instances made (first one included)
}

// Stats returns the counters.
func (s *Sandbox) Stats() Stats {
	return Stats{Restores: s.restores.Load(), Instances: s.instances.Load()}
}

// New compiles the module (or loads it from the compilation cache), starts
// the interpreter once and takes the image.
func New(ctx context.Context, cfg Config) (*Sandbox, error) {
	cfg = cfg.withDefaults()
	bin, err := wasm.Python()
	if err != nil {
		return nil, err
	}
	fsys, err := stdlibFS()
	if err != nil {
		return nil, err
	}
	stop := cfg.stopper
	if stop == stopFuel {
		inst, info, err := instrument.Fuel(bin)
		if err != nil {
			return nil, fmt.Errorf("sandbox: cannot instrument the module: %w", err)
		}
		bin = inst
		slog.Debug("sandbox: module instrumented", "loops", info.Loops, "bulk_ops", info.BulkOps)
	}
	rc := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(stop == stopChecks).
		WithMemoryLimitPages(uint32(min(cfg.MemoryLimit/pageSize, 65536)))
	if cache := compilationCache(cfg.CacheDir); cache != nil {
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("sandbox: wasi: %w", err)
	}
	compiled, err := rt.CompileModule(ctx, bin)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("sandbox: compile: %w", err)
	}
	cfg.stopper = stop
	s := &Sandbox{cfg: cfg, rt: rt, compiled: compiled, fsys: fsys}
	if err := s.makeImage(ctx); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return s, nil
}

func compilationCache(dir string) wazero.CompilationCache {
	if dir == "off" {
		return nil
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil
		}
		dir = filepath.Join(base, "toppass", "wazero")
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil
	}
	return c
}

func (s *Sandbox) makeImage(ctx context.Context) error {
	start := time.Now()
	inst, err := s.instantiate(ctx, true)
	if err != nil {
		return err
	}
	ptr, err := inst.put(ctx, harnessSource)
	if err != nil {
		inst.close(ctx)
		return err
	}
	res, err := inst.mod.ExportedFunction("toppass_init").Call(ctx, uint64(ptr), uint64(len(harnessSource)))
	if err != nil || res[0] != 0 {
		msg := string(inst.stderr.buf)
		inst.close(ctx)
		return fmt.Errorf("sandbox: interpreter init failed: %v %s", err, msg)
	}
	if _, err := inst.mod.ExportedFunction("toppass_free").Call(ctx, uint64(ptr)); err != nil {
		inst.close(ctx)
		return err
	}
	mem := inst.mod.Memory()
	view, _ := mem.Read(0, mem.Size())
	s.image = bytes.Clone(view)
	sp := inst.mod.ExportedGlobal("__stack_pointer")
	if sp == nil {
		inst.close(ctx)
		return errors.New("sandbox: module does not export __stack_pointer")
	}
	s.imageFrom = uint32(sp.Get())
	fds, err := inst.openFDs(ctx)
	if err != nil {
		inst.close(ctx)
		return err
	}
	s.fds = fds
	inst.stdout.reset()
	inst.stderr.reset()
	s.InitTime = time.Since(start)
	s.idle = append(s.idle, inst)
	return nil
}

// ImageSize is the size of the interpreter image in bytes.
func (s *Sandbox) ImageSize() int { return len(s.image) }

// Close releases every instance and the runtime.
func (s *Sandbox) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.idle = nil
	s.mu.Unlock()
	return s.rt.Close(ctx)
}

// Run executes one request on a fresh interpreter. The error is non-nil
// only when the sandbox itself failed or ctx ended; whatever the program
// does is described by the Result.
func (s *Sandbox) Run(ctx context.Context, req *Request) (*Result, error) {
	inst, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	res, keep, err := inst.run(ctx, s, req)
	if keep {
		s.release(inst)
	} else {
		inst.close(context.Background())
	}
	return res, err
}

func (s *Sandbox) acquire(ctx context.Context) (*instance, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("sandbox: closed")
	}
	if n := len(s.idle); n > 0 {
		inst := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return inst, nil
	}
	s.mu.Unlock()
	inst, err := s.instantiate(ctx, false)
	if err != nil {
		return nil, err
	}
	if err := inst.load(s.image); err != nil {
		inst.close(ctx)
		return nil, err
	}
	return inst, nil
}

func (s *Sandbox) release(inst *instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		inst.close(context.Background())
		return
	}
	s.idle = append(s.idle, inst)
}

// instance is one wasm module instance and the host-side state of its
// current run. It is used by one goroutine at a time.
type instance struct {
	mod            api.Module
	runFn, alloc   api.Function
	stdin          *bytes.Reader
	stdout, stderr *limitWriter
	rng            *seededRand
	wallBase       time.Time // the real time at the start of the run
	fresh          bool      // memory equals the image

	// meter and stop are the instance's own, except while it serves a
	// request of another instance's run: then they are that run's
	// (peer.go).
	meter    *meter
	stop     *stopState
	ownMeter meter
	ownStop  stopState
	pair     *pairing // set while the instance judges a two-instance run
}

func (s *Sandbox) instantiate(ctx context.Context, initialize bool) (*instance, error) {
	inst := &instance{
		stdin:  bytes.NewReader(nil),
		stdout: &limitWriter{limit: s.cfg.OutputLimit},
		stderr: &limitWriter{limit: s.cfg.OutputLimit},
		rng:    newSeededRand(s.cfg.Seed),
	}
	inst.meter, inst.stop = &inst.ownMeter, &inst.ownStop
	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs("python3").
		WithStdin(inst.stdin).
		WithStdout(inst.stdout).
		WithStderr(inst.stderr).
		WithFSConfig(wazero.NewFSConfig().WithFSMount(s.fsys, "/").(sysfs.FSConfig).
			WithSysFSMount(peerFS{inst: inst}, peerMount)).
		WithRandSource(inst.rng).
		WithWalltime(inst.walltime, 1).
		WithNanotime(inst.nanotime, 1).
		WithNanosleep(inst.sleep).
		WithOsyield(inst.yield).
		WithStartFunctions() // _initialize is called below, once the meter is set
	inst.wallBase = time.Now()
	if a := memoryAllocator(); a != nil {
		ctx = experimental.WithMemoryAllocator(ctx, a)
	}
	mod, err := s.rt.InstantiateModule(ctx, s.compiled, mc)
	if err != nil {
		return nil, fmt.Errorf("sandbox: instantiate: %w", err)
	}
	s.instances.Add(1)
	inst.mod = mod
	inst.runFn = mod.ExportedFunction("toppass_run")
	inst.alloc = mod.ExportedFunction("toppass_alloc")
	if inst.runFn == nil || inst.alloc == nil {
		mod.Close(ctx)
		return nil, errors.New("sandbox: module lacks toppass_run/toppass_alloc")
	}
	if s.cfg.stopper == stopFuel {
		g, ok := mod.ExportedGlobal(instrument.FuelGlobal).(api.MutableGlobal)
		if !ok {
			mod.Close(ctx)
			return nil, errors.New("sandbox: the instrumented module has no fuel global")
		}
		inst.ownMeter.global = g
	}
	inst.meter.reload()
	if initialize {
		if _, err := mod.ExportedFunction("_initialize").Call(ctx); err != nil {
			mod.Close(ctx)
			return nil, fmt.Errorf("sandbox: initialize: %w", err)
		}
	}
	inst.fresh = true
	return inst, nil
}

// load copies the image into a new instance.
func (inst *instance) load(image []byte) error {
	mem := inst.mod.Memory()
	if want := uint32(len(image)); mem.Size() < want {
		if _, ok := mem.Grow((want - mem.Size()) / pageSize); !ok {
			return errors.New("sandbox: memory limit below the interpreter image")
		}
	}
	if !mem.Write(0, image) {
		return errors.New("sandbox: image does not fit")
	}
	inst.fresh = true
	return nil
}

// restore puts the image back into a used instance. The idle stack below
// imageFrom holds nothing live between calls, so it is skipped.
func (inst *instance) restore(s *Sandbox) {
	if inst.fresh {
		return
	}
	mem := inst.mod.Memory()
	view, _ := mem.Read(s.imageFrom, uint32(len(s.image))-s.imageFrom)
	copy(view, s.image[s.imageFrom:])
	s.restores.Add(1)
	inst.fresh = true
}

func (inst *instance) close(ctx context.Context) {
	if inst.mod != nil {
		inst.mod.Close(ctx)
	}
}

// put copies b into a fresh buffer in linear memory.
func (inst *instance) put(ctx context.Context, b []byte) (uint32, error) {
	res, err := inst.mod.ExportedFunction("toppass_alloc").Call(ctx, uint64(len(b)+1))
	if err != nil {
		return 0, fmt.Errorf("sandbox: alloc: %w", err)
	}
	ptr := uint32(res[0])
	if ptr == 0 || !inst.mod.Memory().Write(ptr, b) {
		return 0, errors.New("sandbox: alloc: no memory for the request")
	}
	return ptr, nil
}

func (inst *instance) openFDs(ctx context.Context) (uint32, error) {
	res, err := inst.mod.ExportedFunction("toppass_fds").Call(ctx)
	if err != nil {
		return 0, err
	}
	return uint32(res[0]), nil
}

// run executes req. keep reports whether the instance may be reused.
func (inst *instance) run(ctx context.Context, s *Sandbox, req *Request) (res *Result, keep bool, err error) {
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, true, fmt.Errorf("sandbox: request: %w", err)
	}
	limit := s.cfg.OutputLimit
	if req.OutputLimit > 0 {
		limit = req.OutputLimit
	}
	inst.prepare(s, req.Stdin, limit)

	budget, wall := s.limits(req)
	runCtx, cancel := context.WithTimeout(ctx, wall)
	defer cancel()
	gen := inst.arm(s.cfg.stopper, cancel)
	inst.stdout.onOver = func() { inst.interrupt(gen, stopOutput) }
	inst.stderr.onOver = inst.stdout.onOver
	disarm := inst.watch(gen, ctx, runCtx)

	start := time.Now()
	res = &Result{Budget: budget}
	ptr, err := inst.put(runCtx, payload)
	if err != nil {
		disarm()
		return nil, false, err
	}
	inst.wallBase = time.Now()
	if s.cfg.stopper == stopFuel {
		inst.meter.start(FuelFor(budget))
	}
	if judged(req.Mode) {
		inst.pair = &pairing{s: s, ctx: runCtx}
	}
	out, callErr := inst.runFn.Call(runCtx, uint64(ptr), uint64(len(payload)))
	res.Fuel = inst.meter.finish()
	res.Duration = time.Since(start)
	why := disarm()
	res.Stdout, res.Stderr = bytes.Clone(inst.stdout.buf), bytes.Clone(inst.stderr.buf)
	res.Truncated = inst.stdout.over || inst.stderr.over
	atLimit := func() bool { return s.atMemoryLimit(inst) }
	if p := inst.pair; p != nil && p.fail != nil {
		// The candidate's instance ended the run.
		callErr = p.fail
		atLimit = func() bool { return p.memory }
	}
	inst.endPair(res)

	var exit *sys.ExitError
	isExit := errors.As(callErr, &exit)
	switch {
	case why == stopCanceled || (callErr != nil && ctx.Err() != nil):
		return nil, false, ctx.Err()
	case res.Truncated:
		res.Stop = StopOutputLimit
		return res, false, nil
	case why == stopBudget:
		res.Stop = StopTimeout
		return res, false, nil
	case why == stopWall || callErr != nil && runCtx.Err() != nil:
		// Stopped by the backstop: the machine could not spend the
		// budget in time.
		res.Stop = StopWallTimeout
		return res, false, nil
	case isExit:
		res.Stop, res.ExitCode = StopExit, exit.ExitCode()
		return res, false, nil
	case callErr != nil:
		res.Stop, res.Message = StopTrap, callErr.Error()
		if atLimit() {
			res.Stop = StopMemory
		}
		return res, false, nil
	}
	if err := inst.readReply(out[0], res); err != nil {
		res.Stop, res.Message = StopTrap, err.Error()
		return res, false, nil
	}
	return res, s.reusable(ctx, inst), nil
}

// prepare restores the image into inst and resets the host's side of it
// for a run: output buffers and their limit, stdin, the random source.
func (inst *instance) prepare(s *Sandbox, stdin []byte, outputLimit int) {
	inst.restore(s)
	inst.fresh = false
	inst.stdout.reset()
	inst.stderr.reset()
	inst.stdout.limit, inst.stderr.limit = outputLimit, outputLimit
	inst.stdin.Reset(stdin)
	inst.rng.reset()
}

// reusable reports whether inst, after a run, may serve the next one.
// State outside the image must match it, or the next program would see
// what this one did: memory grown past the image (the allocator would
// keep the gap) or descriptors left open or closed.
func (s *Sandbox) reusable(ctx context.Context, inst *instance) bool {
	if inst.mod.Memory().Size() != uint32(len(s.image)) {
		return false
	}
	fds, err := inst.openFDs(ctx)
	return err == nil && fds == s.fds
}

// atMemoryLimit reports whether inst's memory has reached the limit (a
// trap there is the memory limit, not a crash).
func (s *Sandbox) atMemoryLimit(inst *instance) bool {
	return inst.mod.Memory().Size() >= uint32(min(s.cfg.MemoryLimit, 1<<32-pageSize)/pageSize*pageSize)
}

// limits are the budget and the wall-clock backstop of req. Without fuel
// (benchmarks of the other stoppers) the budget is the wall-clock limit.
func (s *Sandbox) limits(req *Request) (budget, wall time.Duration) {
	budget = s.cfg.Timeout
	if req.Timeout > 0 {
		budget = req.Timeout
	}
	switch {
	case s.cfg.stopper != stopFuel:
		wall = budget
	case s.cfg.WallTimeout > 0 && req.Timeout <= 0:
		wall = s.cfg.WallTimeout
	default:
		wall = defaultWall(budget)
	}
	return budget, wall
}

// replyAt returns the [u32 length][bytes] buffer toppass_run returned at
// ptr, as a view of linear memory.
func (inst *instance) replyAt(ptr uint64) ([]byte, error) {
	mem := inst.mod.Memory()
	if ptr == 0 {
		return nil, errors.New("harness returned no reply")
	}
	hdr, ok := mem.Read(uint32(ptr), 4)
	if !ok {
		return nil, errors.New("reply out of bounds")
	}
	body, ok := mem.Read(uint32(ptr)+4, binary.LittleEndian.Uint32(hdr))
	if !ok {
		return nil, errors.New("reply out of bounds")
	}
	return body, nil
}

func (inst *instance) readReply(ptr uint64, res *Result) error {
	body, err := inst.replyAt(ptr)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &res.Reply); err != nil {
		return fmt.Errorf("bad reply: %w", err)
	}
	switch res.Outcome {
	case "pass", "fail":
		res.Stop = StopOK
	case "memory":
		res.Stop = StopMemory
	default:
		res.Stop = StopException
	}
	return nil
}

// limitWriter keeps at most limit bytes and calls onOver once when a write
// would pass it.
type limitWriter struct {
	buf    []byte
	limit  int
	over   bool
	onOver func()
}

func (w *limitWriter) reset() {
	w.buf = w.buf[:0]
	w.over = false
	w.onOver = nil
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.over {
		return len(p), nil
	}
	if room := w.limit - len(w.buf); len(p) > room {
		w.buf = append(w.buf, p[:room]...)
		w.over = true
		if w.onOver != nil {
			w.onOver()
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// seededRand is the program's random source: the same bytes on every run.
type seededRand struct {
	seed uint64
	c    *rand.ChaCha8
}

func newSeededRand(seed uint64) *seededRand {
	r := &seededRand{seed: seed}
	r.reset()
	return r
}

func (r *seededRand) reset() {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], r.seed)
	copy(key[8:], "toppass sandbox random source")
	r.c = rand.NewChaCha8(key)
}

func (r *seededRand) Read(p []byte) (int, error) { return r.c.Read(p) }
