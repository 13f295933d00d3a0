package progress

import (
	"bytes"
	"testing"
)

// Off a terminal the bar logs instead of drawing; counts add up either way.
func TestCountsOffTerminal(t *testing.T) {
	var w bytes.Buffer
	b := New(&w, "job", 10, func() string { return "ok" })
	for range 4 {
		b.Add(2)
	}
	b.Done()
	if got := b.done.Load(); got != 8 {
		t.Fatalf("done %d", got)
	}
	if w.Len() != 0 {
		t.Fatalf("drew on a non-terminal: %q", w.String())
	}
}
