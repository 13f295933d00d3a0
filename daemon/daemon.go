// Package daemon is toppass's background service: one process per user
// that owns the sandbox, the store and the ranker model. It watches the
// user's problem folders, labels new candidates, ranks on request, and
// fine-tunes the ranker on the user's own problems; editors (the language
// server) and the command line are its clients.
//
// Why one daemon: the sandbox's interpreter image, the compiled module and
// the model take seconds to load and hundreds of MB; a ranking asked for
// from an editor must come back in milliseconds. And labels are facts
// worth keeping: the daemon writes every one to the store (package store)
// as it is made, so a crash loses nothing committed, and nothing is ever
// labelled twice.
//
// The API is JSON-RPC 2.0 over a Unix socket in the user's runtime folder
// (api.go); only the user can reach it (a 0700 folder, a 0600 socket). One
// instance per user: an flock on a lock file that holds the pid.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/toppass/toppass/label"
	"github.com/toppass/toppass/sandbox"
	"github.com/toppass/toppass/static"
	"github.com/toppass/toppass/store"
)

// Daemon is a running service.
type Daemon struct {
	paths   Paths
	cfg     Config
	log     *slog.Logger
	hub     *hub
	st      *store.Store
	sb      *sandbox.Sandbox
	lb      *label.Labeler
	an      *static.Analyser
	env     string // the sandbox environment labels are keyed by
	cpu     *cpuBudget
	started time.Time

	models  *models
	pass    atomic.Pointer[passModel] // the hybrid's P(pass) model (calibration.go)
	watcher *watcher
	recent  *lru // recent rankings

	mu     sync.Mutex
	errs   []string // recent problems the user should see
	conns  map[jsonrpc2.Conn]struct{}
	wake   chan struct{}
	stopFn context.CancelFunc

	dash *dashboard // nil when disabled

	ranking atomic.Int32
	labels  atomic.Int64 // labels stored since start
}

// Version is the daemon's protocol and build version, shown by status.
const Version = "toppass-daemon/1"

// Run runs the daemon in the foreground until ctx ends, a client asks it
// to stop, or it fails. It returns ErrRunning when another daemon holds
// the lock.
func Run(ctx context.Context, paths Paths, cfg Config) (err error) {
	if err := secureDir(paths.Runtime); err != nil {
		return fmt.Errorf("runtime folder: %w", err)
	}
	lk, err := acquireLock(paths.Lock())
	if err != nil {
		return err
	}
	defer lk.release()
	// We hold the lock: a socket file left there is stale.
	if err := os.Remove(paths.Socket()); err == nil {
		fmt.Fprintln(os.Stderr, "toppass daemon: removed a stale socket left by a daemon that did not exit cleanly")
	}

	logFile, err := openRotating(paths.Log(), int64(cfg.Log.MaxMB)<<20, cfg.Log.Keep)
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	defer logFile.Close()
	d := &Daemon{paths: paths, cfg: cfg, hub: newHub(), started: time.Now(), conns: map[jsonrpc2.Conn]struct{}{},
		wake: make(chan struct{}, 1)}
	d.log = newLogger(logFile, cfg.Log.Level, d.hub)
	prev := slog.Default()
	slog.SetDefault(d.log)
	defer slog.SetDefault(prev)
	d.log.Info("daemon starting", "pid", os.Getpid(), "socket", paths.Socket(), "store", paths.DB(), "workers", cfg.Workers,
		"budget", time.Duration(cfg.Timeout).String())
	defer func() {
		if err != nil {
			d.log.Error("daemon stopped", "err", err)
		} else {
			d.log.Info("daemon stopped")
		}
	}()

	if d.st, err = store.Open(ctx, paths.DB()); err != nil {
		return err
	}
	defer d.st.Close()
	scfg := sandbox.Config{Timeout: time.Duration(cfg.Timeout), MemoryLimit: int64(cfg.Memory),
		CacheDir: filepath.Join(paths.Cache, "wazero")}
	if d.sb, err = sandbox.New(ctx, scfg); err != nil {
		return err
	}
	defer d.sb.Close(context.Background())
	d.lb = &label.Labeler{SB: d.sb}
	d.an = &static.Analyser{SB: d.sb, Workers: cfg.Workers}
	d.env = envKey(cfg)
	d.cpu = newCPUBudget(cfg.Workers)
	d.recent = newLRU(1024)
	// Two more OS threads than the CPU budget: labelling holds at most
	// Workers threads (at a lower priority, see background), a fresh
	// ranking's work one more, and a cached answer or a status always
	// finds a thread of its own instead of waiting for a Go time slice;
	// the kernel shares the cores by priority.
	if runtime.GOMAXPROCS(0) < cfg.Workers+2 {
		runtime.GOMAXPROCS(cfg.Workers + 2)
	}
	if d.models, err = openModels(ctx, d); err != nil {
		return err
	}
	d.initPass()
	if n, err := d.st.RequeueRunning(ctx); err != nil {
		return err
	} else if n > 0 {
		d.log.Info("jobs left running by the last daemon queued again", "jobs", n)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	d.stopFn = stop
	if d.watcher, err = newWatcher(runCtx, d); err != nil {
		return err
	}
	defer d.watcher.close()
	for _, dir := range cfg.Watch {
		if _, err := d.watch(runCtx, dir); err != nil {
			d.problem("config watch %s: %v", dir, err)
		}
	}
	sets, err := d.st.Sets(ctx)
	if err != nil {
		return err
	}
	for _, s := range sets {
		if err := d.watcher.add(s); err != nil {
			d.problem("watch %s: %v", s.Dir, err)
		}
	}

	if cfg.Dashboard.Enabled {
		if d.dash, err = d.startDashboard(runCtx); err != nil {
			d.problem("dashboard not started: %v", err)
		} else {
			defer d.dash.close() // before the store closes
		}
	}
	ln, err := listen(paths.Socket())
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); d.serve(runCtx, ln) }()
	go func() { defer wg.Done(); d.runJobs(runCtx) }()
	d.kick()
	d.log.Info("daemon ready")
	<-runCtx.Done()
	ln.Close()
	d.closeConns()
	wg.Wait()
	os.Remove(paths.Socket())
	return nil
}

// listen opens the API socket, readable and writable by the user only.
func listen(path string) (net.Listener, error) {
	old := umask(0o077)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// problem records something the user should act on: logged, and shown by
// status (the last 20).
func (d *Daemon) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.log.Warn(msg)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errs = append(d.errs, time.Now().Format(time.TimeOnly)+" "+msg)
	if len(d.errs) > 20 {
		d.errs = d.errs[len(d.errs)-20:]
	}
}

// kick wakes the job runner.
func (d *Daemon) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Stop asks the daemon to finish: running jobs checkpoint or commit what
// they did, then it exits.
func (d *Daemon) Stop() { d.stopFn() }

func (d *Daemon) status(ctx context.Context) (*Status, error) {
	labels, _, err := d.st.LabelStats(ctx)
	if err != nil {
		return nil, err
	}
	pending, err := d.st.CountPending(ctx, 0, d.env)
	if err != nil {
		return nil, err
	}
	return d.statusWith(ctx, labels, pending)
}

// statusWith is status with the counts that scan the store given (the
// dashboard keeps them between changes).
func (d *Daemon) statusWith(ctx context.Context, labels, pending int) (*Status, error) {
	jobs, err := d.st.Jobs(ctx, 5)
	if err != nil {
		return nil, err
	}
	sets, err := d.st.Sets(ctx)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	errs := append([]string(nil), d.errs...)
	d.mu.Unlock()
	return &Status{PID: os.Getpid(), Version: Version, Started: d.started.UnixMilli(), Socket: d.paths.Socket(),
		Store: d.st.Path(), Labels: labels, Pending: pending, Model: d.models.currentID(),
		Budget: time.Duration(d.cfg.Timeout).String(), Workers: d.cfg.Workers, Jobs: jobs, Ranking: int(d.ranking.Load()),
		Sets: sets, Errors: errs, LogFile: d.paths.Log(), Training: d.models.training.Load(), DashboardURL: d.dashboardURL(),
		PPass: d.passSummary()}, nil
}

// envKey is the sandbox environment labels are keyed by: the sandbox's
// version and the limits.
func envKey(cfg Config) string {
	return store.Hash("env", sandbox.Version(), time.Duration(cfg.Timeout).String(), fmt.Sprint(cfg.Memory))[:24]
}

func (d *Daemon) dashboardURL() string {
	if d.dash == nil {
		return ""
	}
	return d.dash.URL()
}

var errStopping = errors.New("the daemon is stopping")
