package daemon

import (
	"context"
	"sync"
	"time"
)

// cpuBudget hands out the daemon's CPU slots (Config.Workers), highest
// priority first: an interactive ranking gets the next free slot before
// any labelling run that waits. A ranking that still waits after
// rankPatience takes a slot beyond the budget rather than wait for a
// labelling run to finish (one may take its whole time budget).
type cpuBudget struct {
	mu      sync.Mutex
	free    int
	waiters []*cpuWaiter
}

type cpuWaiter struct {
	prio  int // lower first
	ready chan struct{}
}

const rankPatience = 20 * time.Millisecond

func newCPUBudget(n int) *cpuBudget { return &cpuBudget{free: max(n, 1)} }

// acquire waits for a slot; release gives it back.
func (c *cpuBudget) acquire(ctx context.Context, prio int) (release func(), err error) {
	c.mu.Lock()
	if c.free > 0 && len(c.waiters) == 0 {
		c.free--
		c.mu.Unlock()
		return c.release, nil
	}
	w := &cpuWaiter{prio: prio, ready: make(chan struct{})}
	i := len(c.waiters)
	for i > 0 && c.waiters[i-1].prio > prio {
		i--
	}
	c.waiters = append(c.waiters, nil)
	copy(c.waiters[i+1:], c.waiters[i:])
	c.waiters[i] = w
	c.mu.Unlock()

	var patience <-chan time.Time
	if prio == prioRank {
		t := time.NewTimer(rankPatience)
		defer t.Stop()
		patience = t.C
	}
	select {
	case <-w.ready:
		return c.release, nil
	case <-patience:
		if c.cancel(w) {
			return func() {}, nil // beyond the budget, briefly
		}
		<-w.ready
		return c.release, nil
	case <-ctx.Done():
		if c.cancel(w) {
			return nil, ctx.Err()
		}
		<-w.ready
		c.release()
		return nil, ctx.Err()
	}
}

// cancel removes a waiter; false if it was already given a slot.
func (c *cpuBudget) cancel(w *cpuWaiter) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.waiters {
		if x == w {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			return true
		}
	}
	return false
}

func (c *cpuBudget) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) > 0 {
		w := c.waiters[0]
		c.waiters = c.waiters[1:]
		close(w.ready)
		return
	}
	c.free++
}

// waiting reports whether a ranking waits for a slot (training yields).
func (c *cpuBudget) rankWaiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters) > 0 && c.waiters[0].prio == prioRank
}

// Priorities of CPU slots.
const (
	prioRank  = 0
	prioLabel = 1
	prioTrain = 2
)
