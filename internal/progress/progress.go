// Package progress shows how far a long job is: a bar on a terminal, and
// a log line every few seconds otherwise (CI logs, pipes), so that no job
// over a few seconds runs silently.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Bar counts done items out of a total.
type Bar struct {
	name  string
	total int64
	done  atomic.Int64
	start time.Time
	extra atomic.Value // func() string

	p    *mpb.Progress
	bar  *mpb.Bar
	stop chan struct{}
	wg   sync.WaitGroup
}

// New starts a bar on w (normally os.Stderr). extra, if not nil, adds a
// short status (such as the pass count) to each report.
func New(w io.Writer, name string, total int64, extra func() string) *Bar {
	b := &Bar{name: name, total: total, start: time.Now(), stop: make(chan struct{})}
	if extra == nil {
		extra = func() string { return "" }
	}
	b.extra.Store(extra)
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		b.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(150*time.Millisecond))
		b.bar = b.p.AddBar(total,
			mpb.PrependDecorators(decor.Name(name+" "), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(
				decor.AverageSpeed(nil, " %.1f/s"),
				decor.Any(func(decor.Statistics) string { return " " + b.extra.Load().(func() string)() }),
				decor.Name(" eta "), decor.AverageETA(decor.ET_STYLE_GO),
			))
		return b
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.log()
			}
		}
	}()
	return b
}

func (b *Bar) log() {
	done := b.done.Load()
	el := time.Since(b.start).Seconds()
	slog.Info(b.name, "done", done, "total", b.total,
		"rate", fmt.Sprintf("%.1f/s", float64(done)/max(el, 1e-9)),
		"status", b.extra.Load().(func() string)())
}

// Add records n more items done.
func (b *Bar) Add(n int) {
	b.done.Add(int64(n))
	if b.bar != nil {
		b.bar.IncrBy(n)
	}
}

// Done finishes the bar.
func (b *Bar) Done() {
	if b.bar != nil {
		b.bar.SetTotal(b.done.Load(), true)
		b.p.Wait()
		return
	}
	close(b.stop)
	b.wg.Wait()
	b.log()
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
