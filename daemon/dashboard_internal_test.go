package daemon

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemoServesStaleWhileRefreshing(t *testing.T) {
	m := newMemo()
	var calls atomic.Int32
	release := make(chan struct{})
	fn := func(v int) func() (any, error) {
		return func() (any, error) {
			calls.Add(1)
			if v == 2 {
				<-release // a slow refresh
			}
			return v, nil
		}
	}
	if v, _ := m.get("k", 1, fn(1)); v != 1 {
		t.Fatalf("first get: %v", v)
	}
	if v, _ := m.get("k", 1, fn(9)); v != 1 || calls.Load() != 1 {
		t.Fatalf("same version recomputed: %v, %d calls", v, calls.Load())
	}
	// A new version: the old value at once, one refresh in the background.
	start := time.Now()
	for range 5 {
		if v, _ := m.get("k", 2, fn(2)); v != 1 {
			t.Fatalf("during the refresh: %v", v)
		}
	}
	if time.Since(start) > time.Second {
		t.Fatal("a get waited for the refresh")
	}
	for i := 0; calls.Load() < 2 && i < 500; i++ {
		time.Sleep(2 * time.Millisecond)
	}
	m.get("k", 2, fn(2))
	if calls.Load() != 2 {
		t.Fatalf("the refresh ran %d times, want once", calls.Load()-1)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, _ := m.get("k", 2, fn(3)); v == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refreshed value never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A failing first computation is an error, and nothing is kept.
	if _, err := m.get("bad", 1, func() (any, error) { return nil, errors.New("boom") }); err == nil {
		t.Fatal("no error")
	}
	if v, err := m.get("bad", 1, fn(4)); err != nil || v != 4 {
		t.Fatalf("after a failure: %v %v", v, err)
	}
}

func TestRateMeter(t *testing.T) {
	r := newRateMeter()
	var n atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.run(ctx, n.Load); close(done) }()
	n.Store(0)
	time.Sleep(50 * time.Millisecond)
	r.mu.Lock()
	// Fill the samples by hand: 20 a second for 12 seconds.
	r.samples = nil
	for i := range 13 {
		r.samples = append(r.samples, int64(20*i))
	}
	r.mu.Unlock()
	if got := r.perSecond(); got != 20 {
		t.Fatalf("rate %v, want 20", got)
	}
	if h := r.history(); len(h) != 12 || h[0] != 20 {
		t.Fatalf("history %v", h)
	}
	cancel()
	<-done
}

func TestEvidenceSaysBehaviour(t *testing.T) {
	r := &Ranked{Examples: 2, ExamplesPassed: 1, Behaviour: 0.75, Inputs: 12}
	if got, want := evidence(r), "examples 1/2 · behaves as 75 % of the candidates on 12 inputs"; got != want {
		t.Errorf("evidence: %q, want %q", got, want)
	}
	if got := (&Ranked{Behaviour: 0.5}).BehaviourNote(); got != "" {
		t.Errorf("no inputs counted, yet %q", got)
	}
}
