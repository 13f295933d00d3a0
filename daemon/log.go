package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// rotatingFile is the daemon's log file: when it passes maxBytes it is
// renamed to daemon.log.1 (older ones shift up to keep) and a new one is
// started.
type rotatingFile struct {
	mu       sync.Mutex
	path     string
	maxBytes int64
	keep     int
	f        *os.File
	size     int64
}

func openRotating(path string, maxBytes int64, keep int) (*rotatingFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	r := &rotatingFile{path: path, maxBytes: maxBytes, keep: keep}
	return r, r.open()
}

func (r *rotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, st.Size()
	return nil
}

func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size+int64(len(p)) > r.maxBytes && r.size > 0 {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *rotatingFile) rotate() error {
	r.f.Close()
	for i := r.keep - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", r.path, i), fmt.Sprintf("%s.%d", r.path, i+1))
	}
	if r.keep > 0 {
		os.Rename(r.path, r.path+".1")
	} else {
		os.Remove(r.path)
	}
	return r.open()
}

func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

// LogRecord is a log line as clients receive it.
type LogRecord struct {
	Time    time.Time      `json:"time"`
	Level   string         `json:"level"`
	Message string         `json:"msg"`
	Attrs   map[string]any `json:"attrs,omitempty"`
}

// fanout is a slog handler that writes to the file (JSON lines) and passes
// each record to the subscribed clients.
type fanout struct {
	slog.Handler
	hub *hub
}

func (h *fanout) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if h.hub.wantsLogs() {
		rec := LogRecord{Time: r.Time, Level: r.Level.String(), Message: r.Message, Attrs: map[string]any{}}
		r.Attrs(func(a slog.Attr) bool {
			rec.Attrs[a.Key] = a.Value.Resolve().Any()
			return true
		})
		h.hub.publish("log", rec, true)
	}
	return err
}

func (h *fanout) WithAttrs(as []slog.Attr) slog.Handler {
	return &fanout{Handler: h.Handler.WithAttrs(as), hub: h.hub}
}

func (h *fanout) WithGroup(name string) slog.Handler {
	return &fanout{Handler: h.Handler.WithGroup(name), hub: h.hub}
}

func newLogger(w io.Writer, level string, hub *hub) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(level))
	return slog.New(&fanout{Handler: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv}), hub: hub})
}
