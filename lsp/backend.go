package lsp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/toppass/toppass/daemon"
)

// Backend generates and ranks candidates: the daemon, through its socket.
type Backend interface {
	Rank(ctx context.Context, p *daemon.RankParams) (*daemon.RankResult, error)
}

// DaemonBackend talks to the toppass daemon, starting it when none runs
// (Exe daemon) and dialling again after the connection is lost (a daemon
// that was stopped or killed is started again by the next request).
type DaemonBackend struct {
	Paths daemon.Paths
	Exe   string // the toppass binary (default: this executable)

	mu sync.Mutex
	cl *daemon.Client
}

func (b *DaemonBackend) client(ctx context.Context) (*daemon.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cl != nil {
		select {
		case <-b.cl.Done():
			b.cl = nil
		default:
			return b.cl, nil
		}
	}
	exe := b.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	cl, err := daemon.Ensure(ctx, b.Paths, exe, 60*time.Second)
	if err != nil {
		return nil, fmt.Errorf("the toppass daemon is not available: %w", err)
	}
	b.cl = cl
	return cl, nil
}

// Rank asks the daemon for a ranking (generating first when p has no
// candidates).
func (b *DaemonBackend) Rank(ctx context.Context, p *daemon.RankParams) (*daemon.RankResult, error) {
	cl, err := b.client(ctx)
	if err != nil {
		return nil, err
	}
	var res daemon.RankResult
	done := make(chan error, 1)
	go func() { done <- cl.Call(ctx, daemon.MethodRank, p, &res) }()
	select {
	case err = <-done:
	case <-cl.Done():
		// jsonrpc2's Call does not return when the connection drops.
		err = errors.New("the connection to the daemon was lost")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		select {
		case <-cl.Done():
			b.mu.Lock()
			if b.cl == cl {
				b.cl = nil
			}
			b.mu.Unlock()
			return nil, fmt.Errorf("the daemon went away during the request (it will be started again): %w", err)
		default:
		}
		return nil, err
	}
	return &res, nil
}

// Close closes the connection (the daemon keeps running).
func (b *DaemonBackend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cl != nil {
		return b.cl.Close()
	}
	return nil
}
