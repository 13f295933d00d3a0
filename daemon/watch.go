package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/store"
)

// watcher follows the watched sets with fsnotify: every folder of a set
// is watched (fsnotify is not recursive), and any event in a set schedules
// one scan of it after the set has been quiet for Config.Debounce. Editors
// that save by writing a temporary file and renaming it over the old one,
// folders that appear and vanish, and floods of events all come down to
// "this set changed": the scan reads the whole set again and the store
// works out what is new (store.Sync). A set whose folder vanished is
// checked again every few seconds until it is back.
type watcher struct {
	d  *Daemon
	fw *fsnotify.Watcher

	mu     sync.Mutex
	sets   map[string]*store.Set // by root folder
	timers map[string]*time.Timer
	scanMu map[string]*sync.Mutex
	ctx    context.Context
	done   chan struct{}
}

// newWatcher starts a watcher whose scans live as long as ctx (the
// daemon's, not a request's).
func newWatcher(ctx context.Context, d *Daemon) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{d: d, fw: fw, ctx: ctx, sets: map[string]*store.Set{}, timers: map[string]*time.Timer{},
		scanMu: map[string]*sync.Mutex{}, done: make(chan struct{})}
	go w.loop()
	return w, nil
}

func (w *watcher) close() {
	close(w.done)
	w.fw.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.timers {
		t.Stop()
	}
}

// add watches set s and scans it now.
func (w *watcher) add(s *store.Set) error {
	w.mu.Lock()
	w.sets[s.Dir] = s
	if w.scanMu[s.Dir] == nil {
		w.scanMu[s.Dir] = &sync.Mutex{}
	}
	w.mu.Unlock()
	w.addTree(s.Dir)
	w.schedule(s.Dir, 0)
	return nil
}

func (w *watcher) remove(dir string) {
	w.mu.Lock()
	delete(w.sets, dir)
	if t := w.timers[dir]; t != nil {
		t.Stop()
		delete(w.timers, dir)
	}
	w.mu.Unlock()
	for _, p := range w.fw.WatchList() {
		if p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) {
			w.fw.Remove(p)
		}
	}
}

// addTree watches dir and every folder below it.
func (w *watcher) addTree(dir string) {
	filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return nil // vanished or unreadable: the scan reports it
		}
		if de.IsDir() {
			if strings.HasPrefix(de.Name(), ".") && path != dir {
				return filepath.SkipDir
			}
			if err := w.fw.Add(path); err != nil {
				w.d.log.Warn("cannot watch a folder", "dir", path, "err", err)
			}
		}
		return nil
	})
}

// setOf finds the set that path belongs to.
func (w *watcher) setOf(path string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	best := ""
	for dir := range w.sets {
		if (path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))) && len(dir) > len(best) {
			best = dir
		}
	}
	return best
}

func (w *watcher) loop() {
	retry := time.NewTicker(3 * time.Second)
	defer retry.Stop()
	for {
		select {
		case <-w.done:
			return
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			dir := w.setOf(ev.Name)
			if dir == "" {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					w.addTree(ev.Name)
				}
			}
			w.schedule(dir, time.Duration(w.d.cfg.Debounce))
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			// An overflow means events were lost: read every set again.
			w.d.log.Warn("file watcher", "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				for _, dir := range w.dirs() {
					w.schedule(dir, time.Duration(w.d.cfg.Debounce))
				}
			}
		case <-retry.C:
			// Sets whose folder was missing: watch again once it is back.
			for _, dir := range w.dirs() {
				w.mu.Lock()
				s := w.sets[dir]
				missing := s != nil && strings.HasPrefix(s.Error, "missing")
				w.mu.Unlock()
				if missing {
					if _, err := os.Stat(dir); err == nil {
						w.addTree(dir)
						w.schedule(dir, 0)
					}
				}
			}
		}
	}
}

func (w *watcher) dirs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for d := range w.sets {
		out = append(out, d)
	}
	return out
}

// schedule scans dir after delay, unless more events come first.
func (w *watcher) schedule(dir string, delay time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t := w.timers[dir]; t != nil {
		t.Reset(delay)
		return
	}
	w.timers[dir] = time.AfterFunc(delay, func() { w.scan(dir) })
}

// scan reads set dir and records what changed; new candidates get a
// labelling job.
func (w *watcher) scan(dir string) {
	w.mu.Lock()
	s, mu, ctx := w.sets[dir], w.scanMu[dir], w.ctx
	w.mu.Unlock()
	if s == nil || ctx == nil || ctx.Err() != nil {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	d := w.d
	start := time.Now()
	var bad dataset.ErrorLog
	probs, cands, err := dataset.ReadSet(dir, bad.Add)
	if err != nil {
		msg := fmt.Sprintf("cannot read: %v", err)
		if errors.Is(err, fs.ErrNotExist) {
			msg = "missing: the folder is gone (watching for it to come back)"
		}
		w.setError(ctx, s, msg)
		return
	}
	res, err := d.st.Sync(ctx, s.ID, probs, cands)
	if err != nil {
		if ctx.Err() == nil {
			d.problem("%s: store: %v", dir, err)
		}
		return
	}
	msg := ""
	if bad.N > 0 {
		var parts []string
		for _, e := range bad.First {
			parts = append(parts, e.Error())
		}
		msg = fmt.Sprintf("%d bad input(s): %s", bad.N, strings.Join(parts, "; "))
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		for _, e := range bad.First {
			d.log.Warn("bad input in a watched set", "set", dir, "err", e.Error())
		}
	}
	w.setError(ctx, s, msg)
	d.log.Info("set scanned", "dir", dir, "problems", len(probs), "candidates", len(cands), "new", res.NewCandidates,
		"changed", res.Changed, "removed", res.Removed, "bad", bad.N, "ms", time.Since(start).Milliseconds())
	if res.NewCandidates+res.Changed+res.Problems > 0 {
		if _, _, err := d.st.AddJob(ctx, jobLabel, store.PriorityLabel, labelParams{Set: s.ID}, true); err != nil {
			d.problem("%s: cannot queue labelling: %v", dir, err)
			return
		}
		d.kick()
	}
}

func (w *watcher) setError(ctx context.Context, s *store.Set, msg string) {
	w.mu.Lock()
	changed := s.Error != msg
	s.Error = msg
	w.mu.Unlock()
	if err := w.d.st.SetError(ctx, s.ID, msg); err != nil && ctx.Err() == nil {
		w.d.log.Error("store", "err", err)
	}
	if msg != "" && changed {
		w.d.problem("%s: %s", s.Dir, msg)
	}
}
