package workpool

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestEachRunsEveryJobOnce(t *testing.T) {
	var hits [100]atomic.Int32
	if err := Each(context.Background(), len(hits), 4, func(i int) error { hits[i].Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range hits {
		if hits[i].Load() != 1 {
			t.Fatalf("job %d ran %d times", i, hits[i].Load())
		}
	}
	if err := Each(context.Background(), 0, 0, func(int) error { return errors.New("no job") }); err != nil {
		t.Fatal(err)
	}
}

func TestEachErrorsAndCancel(t *testing.T) {
	boom := errors.New("boom")
	err := Each(context.Background(), 10, 2, func(i int) error {
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	err = Each(ctx, 1000, 1, func(i int) error {
		if ran.Add(1) == 5 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || ran.Load() >= 1000 {
		t.Fatalf("err %v after %d jobs", err, ran.Load())
	}
}
