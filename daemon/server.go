package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/store"
)

func umask(m int) int { return syscall.Umask(m) }

// serve accepts clients until ln is closed. Each connection's requests
// are handled concurrently (a slow ranking does not hold up a status).
func (d *Daemon) serve(ctx context.Context, ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				d.log.Error("accept", "err", err)
			}
			return
		}
		conn := jsonrpc2.NewConn(jsonrpc2.NewStream(nc))
		d.mu.Lock()
		d.conns[conn] = struct{}{}
		d.mu.Unlock()
		// A client that hangs up cancels what it asked for.
		cctx, cancel := context.WithCancel(ctx)
		conn.Go(cctx, jsonrpc2.AsyncHandler(d.handler(conn)))
		go func() {
			<-conn.Done()
			cancel()
			d.hub.remove(conn)
			d.mu.Lock()
			delete(d.conns, conn)
			d.mu.Unlock()
		}()
	}
}

func (d *Daemon) closeConns() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.conns {
		c.Close()
	}
}

// rpcError is an error a client caused (bad parameters): answered as
// InvalidParams.
type rpcError struct{ err error }

func (e rpcError) Error() string { return e.err.Error() }

func badParams(format string, args ...any) error { return rpcError{fmt.Errorf(format, args...)} }

func (d *Daemon) handler(conn jsonrpc2.Conn) jsonrpc2.Handler {
	return func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		start := time.Now()
		res, err := d.dispatch(ctx, conn, req)
		if err != nil {
			var pe rpcError
			code := jsonrpc2.InternalError
			switch {
			case errors.As(err, &pe):
				code = jsonrpc2.InvalidParams
			case errors.Is(err, errUnknownMethod):
				code = jsonrpc2.MethodNotFound
			case ctx.Err() != nil:
				d.log.Info("request abandoned by its client", "method", req.Method(), "err", err)
			}
			return reply(ctx, nil, jsonrpc2.NewError(code, err.Error()))
		}
		d.log.Debug("request", "method", req.Method(), "ms", time.Since(start).Milliseconds())
		return reply(ctx, res, nil)
	}
}

var errUnknownMethod = errors.New("unknown method")

func decode(req jsonrpc2.Request, v any) error {
	raw := req.Params()
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return badParams("%s: invalid parameters: %v", req.Method(), err)
	}
	return nil
}

func (d *Daemon) dispatch(ctx context.Context, conn jsonrpc2.Conn, req jsonrpc2.Request) (any, error) {
	switch req.Method() {
	case MethodStatus:
		return d.status(ctx)
	case MethodWatchAdd:
		var p DirParams
		if err := decode(req, &p); err != nil {
			return nil, err
		}
		return d.watch(ctx, p.Dir)
	case MethodWatchRemove:
		var p DirParams
		if err := decode(req, &p); err != nil {
			return nil, err
		}
		return struct{}{}, d.unwatch(ctx, p.Dir)
	case MethodWatchList:
		return d.st.Sets(ctx)
	case MethodLabel:
		var p LabelParams
		if err := decode(req, &p); err != nil {
			return nil, err
		}
		return d.labelNow(ctx, &p)
	case MethodRank:
		var p RankParams
		if err := decode(req, &p); err != nil {
			return nil, err
		}
		return d.rank(ctx, &p)
	case MethodGenerate:
		var p GenerateParams
		if err := decode(req, &p); err != nil {
			return nil, err
		}
		cands, err := d.generate(ctx, p.Problem, p.N, p.Endpoint, p.Model)
		if err != nil {
			return nil, err
		}
		return &GenerateResult{Candidates: cands}, nil
	case MethodTrain:
		j, _, err := d.st.AddJob(ctx, jobTrain, store.PriorityTrain, trainParams{Reason: "requested"}, true)
		d.kick()
		return j, err
	case MethodModelList:
		return d.st.Models(ctx)
	case MethodModelUse:
		var p ModelParams
		if err := decode(req, &p); err != nil {
			return nil, err
		}
		return struct{}{}, d.models.use(ctx, p.ID)
	case MethodExportLabels:
		var p ExportParams
		if err := decode(req, &p); err != nil {
			return nil, err
		}
		return d.export(ctx, p)
	case MethodLogs:
		var p LogsParams
		if err := decode(req, &p); err != nil {
			return nil, err
		}
		return d.logTail(p.Lines)
	case MethodSubscribe:
		var p SubscribeParams
		if err := decode(req, &p); err != nil {
			return nil, err
		}
		d.hub.subscribe(conn, p)
		return struct{}{}, nil
	case MethodShutdown:
		d.log.Info("stop requested by a client")
		go d.Stop()
		return struct{}{}, nil
	}
	return nil, fmt.Errorf("%w %q", errUnknownMethod, req.Method())
}

// watch starts watching dir.
func (d *Daemon) watch(ctx context.Context, dir string) (*store.Set, error) {
	if !filepath.IsAbs(dir) {
		return nil, badParams("%q is not an absolute path", dir)
	}
	dir = filepath.Clean(dir)
	if _, err := dataset.DetectLayout(dir); err != nil {
		return nil, badParams("cannot watch %s: %v", dir, err)
	}
	s, err := d.st.AddSet(ctx, dir)
	if err != nil {
		return nil, err
	}
	if err := d.watcher.add(s); err != nil {
		return nil, err
	}
	d.log.Info("watching", "dir", dir)
	return s, nil
}

func (d *Daemon) unwatch(ctx context.Context, dir string) error {
	dir = filepath.Clean(dir)
	if err := d.st.RemoveSet(ctx, dir); err != nil {
		return badParams("%v", err)
	}
	d.watcher.remove(dir)
	d.log.Info("no longer watching", "dir", dir)
	return nil
}

// export returns a page of the stored labels of the active candidates.
func (d *Daemon) export(ctx context.Context, p ExportParams) (*ExportResult, error) {
	if p.Limit <= 0 || p.Limit > 10000 {
		p.Limit = 5000
	}
	res := &ExportResult{}
	i := 0
	errDone := errors.New("page full")
	err := d.st.EachLabel(ctx, d.env, func(l *dataset.Label) error {
		if i >= p.Offset {
			if len(res.Labels) == p.Limit {
				res.Next = i
				return errDone
			}
			res.Labels = append(res.Labels, l)
		}
		i++
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return nil, err
	}
	return res, nil
}

// logTail returns the last n lines of the log file.
func (d *Daemon) logTail(n int) (*LogsResult, error) {
	lines, err := TailLog(d.paths.Log(), n)
	return &LogsResult{Lines: lines}, err
}

// TailLog returns the last n lines (default 50) of the log file at path.
func TailLog(path string, n int) ([]string, error) {
	if n <= 0 {
		n = 50
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 2*n {
			lines = append(lines[:0], lines[len(lines)-n:]...)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, sc.Err()
}

// shortErr keeps the first line of an error for status.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
