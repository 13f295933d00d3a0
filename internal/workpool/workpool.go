// Package workpool runs n independent jobs on a fixed number of
// goroutines: the shape of every batch in toppass (label, rank, bench),
// where each job is a sandbox run and the sandbox is safe for concurrent use.
package workpool

import (
	"context"
	"runtime"
	"sync"
)

// Each calls fn(i) for i in [0, n) on workers goroutines (0: one per CPU),
// in order of i. It stops handing out jobs when ctx ends, lets the running
// ones finish, and returns the first error fn returned, else ctx's error.
func Each(ctx context.Context, n, workers int, fn func(i int) error) error {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
