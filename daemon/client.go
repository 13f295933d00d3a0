package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"

	"go.lsp.dev/jsonrpc2"
)

// ErrNotRunning says no daemon answers on the socket.
var ErrNotRunning = errors.New("the toppass daemon is not running")

// ErrNotAnswering says a daemon holds the lock but its socket does not
// answer: it is still opening its store and sandbox, or it hangs.
var ErrNotAnswering = errors.New("a daemon holds the lock but does not answer")

// Client is a connection to the daemon.
type Client struct {
	conn  jsonrpc2.Conn
	notes chan Note
}

// Note is a notification from the daemon.
type Note struct {
	Method string
	Params json.RawMessage
}

// Dial connects to a running daemon; it never starts one. A socket left
// by a daemon that died is reported as not running.
func Dial(ctx context.Context, paths Paths) (*Client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", paths.Socket())
	if err != nil {
		if held, pid := lockHeld(paths.Lock()); held {
			return nil, fmt.Errorf("%w (pid %d, %s): %v", ErrNotAnswering, pid, paths.Socket(), err)
		}
		return nil, ErrNotRunning
	}
	c := &Client{conn: jsonrpc2.NewConn(jsonrpc2.NewStream(nc)), notes: make(chan Note, 256)}
	c.conn.Go(context.Background(), func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		if _, isCall := req.(*jsonrpc2.Call); isCall {
			return reply(ctx, nil, jsonrpc2.NewError(jsonrpc2.MethodNotFound, "clients serve no methods"))
		}
		select {
		case c.notes <- Note{Method: req.Method(), Params: req.Params()}:
		default: // a reader that does not keep up loses notifications
		}
		return nil
	})
	return c, nil
}

// Ensure connects to the daemon, starting it (exe daemon, detached) when
// none runs, and waits up to wait for it to answer.
func Ensure(ctx context.Context, paths Paths, exe string, wait time.Duration) (*Client, error) {
	c, err := Dial(ctx, paths)
	switch {
	case errors.Is(err, ErrNotAnswering):
		// Another client started one a moment ago, and it is still
		// starting (its socket comes after the store and the sandbox):
		// wait for it as for one of ours.
		return answer(ctx, paths, wait, nil)
	case !errors.Is(err, ErrNotRunning):
		return c, err
	}
	if err := secureDir(paths.Runtime); err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "daemon")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the daemon: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return answer(ctx, paths, wait, exited)
}

// answer waits up to wait for the daemon to answer a status call;
// exited, when not nil, reports the end of the daemon this client started
// (it exits at once when another client's holds the lock: then that one
// is waited for).
func answer(ctx context.Context, paths Paths, wait time.Duration, exited <-chan error) (*Client, error) {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if c, err := Dial(ctx, paths); err == nil {
			var st Status
			if err := c.Call(ctx, MethodStatus, nil, &st); err == nil {
				return c, nil
			}
			c.Close()
		}
		select {
		case err := <-exited:
			// Another client may have started one first: ours found the
			// lock held. That one may still be starting (its socket comes
			// after the store and the sandbox): wait for it as for ours.
			if held, _ := lockHeld(paths.Lock()); held {
				exited = nil
				continue
			}
			if c, derr := Dial(ctx, paths); derr == nil {
				return c, nil
			}
			return nil, fmt.Errorf("the daemon exited at start (%v); see %s", err, paths.Log())
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if held, pid := lockHeld(paths.Lock()); held {
		return nil, fmt.Errorf("%w: pid %d, not within %v; see %s", ErrNotAnswering, pid, wait, paths.Log())
	}
	return nil, fmt.Errorf("the daemon did not answer within %v; see %s", wait, paths.Log())
}

// ErrConnectionLost is Call's error when the connection drops before the
// answer arrives (the daemon stopped or was killed).
var ErrConnectionLost = errors.New("the connection to the daemon was lost")

// Call calls method and decodes the result into result (may be nil). It
// returns when ctx ends or the connection drops: go.lsp.dev/jsonrpc2's
// Call alone waits for ever for an answer that a dead daemon never sends.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	var raw json.RawMessage
	done := make(chan error, 1)
	go func() {
		_, err := c.conn.Call(ctx, method, params, &raw)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-c.conn.Done():
		select {
		case err = <-done: // the answer came before the end
		default:
			return ErrConnectionLost
		}
	}
	if err != nil {
		return err
	}
	if result == nil || len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, result)
}

// Notes delivers the notifications the client subscribed to.
func (c *Client) Notes() <-chan Note { return c.notes }

// Done is closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.conn.Done() }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// WaitStopped waits until no daemon holds the lock.
func WaitStopped(ctx context.Context, paths Paths, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if held, _ := lockHeld(paths.Lock()); !held {
			return nil
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	held, pid := lockHeld(paths.Lock())
	if held {
		return fmt.Errorf("the daemon (pid %d) has not stopped within %v", pid, wait)
	}
	return nil
}
