package lsp

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/toppass/toppass/daemon"
)

// rank asks the backend for a ranking within the settings' time limit.
func (s *Server) rank(ctx context.Context, p *daemon.RankParams) (*daemon.RankResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.currentSettings().timeout())
	defer cancel()
	return s.backend.Rank(ctx, p)
}

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
	// A daemon that is dying (killed, stopping) may still accept a
	// connection: a status call tells, and then a new one is started.
	var err error
	for try := 0; try < 3; try++ {
		var cl *daemon.Client
		if cl, err = daemon.Ensure(ctx, b.Paths, exe, 60*time.Second); err != nil {
			break
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = cl.Call(sctx, daemon.MethodStatus, nil, nil)
		cancel()
		if err == nil {
			b.cl = cl
			return cl, nil
		}
		cl.Close()
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("the toppass daemon is not available: %w", err)
}

// Rank asks the daemon for a ranking (generating first when p has no
// candidates).
func (b *DaemonBackend) Rank(ctx context.Context, p *daemon.RankParams) (*daemon.RankResult, error) {
	cl, err := b.client(ctx)
	if err != nil {
		return nil, err
	}
	var res daemon.RankResult
	if err = cl.Call(ctx, daemon.MethodRank, p, &res); err != nil {
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
