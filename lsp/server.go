// Package lsp is toppass's language server: code actions that offer the
// top-ranked candidates for the function at the cursor, with the evidence
// for each (P(pass), examples passed, predicted fault), commands to
// generate candidates and to show them side by side, a hover with the
// ranking's evidence and diagnostics for the code as written.
//
// The server is a thin layer: the daemon (package daemon) generates,
// labels and ranks; this package finds the function at the cursor, asks,
// and turns answers into LSP. One file per LSP concern, as in gopls and
// buf's buflsp: conn.go (the wire), server.go (lifecycle and dispatch),
// documents.go, pyfunc.go (Python functions in a document), codeaction.go,
// command.go, hover.go, diagnostics.go, progress.go, backend.go.
//
// Requests are handled asynchronously: the read loop never waits for a
// handler, `$/cancelRequest` cancels a request's context, every request
// is answered exactly once, and a handler that fails (or panics) answers
// an error and leaves the connection up.
package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// Version is reported to clients in serverInfo.
var Version = "dev"

// Server is one language server session.
type Server struct {
	conn    *conn
	log     *slog.Logger
	backend Backend
	docs    *documents
	cands   *candidates
	diag    diagnoser

	mu          sync.Mutex
	settings    Settings
	initialized bool
	shutdown    bool
	clientCaps  clientCaps
	wg          sync.WaitGroup
	lastError   string // the last failure shown to the user, and when
	lastErrorAt time.Time
}

// clientCaps are the client capabilities the server looks at.
type clientCaps struct {
	resolve      bool // codeAction/resolve with lazily computed edits
	showDocument bool
	progress     bool
}

// New makes a server over in/out that asks backend for candidates.
func New(in io.Reader, out io.Writer, backend Backend, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Server{conn: newConn(in, out, log), log: log, backend: backend,
		docs: newDocuments(), cands: newCandidates(), settings: DefaultSettings()}
}

// Run serves until the client sends exit or closes the stream. The result
// is the process's exit code: 0 after shutdown then exit, 1 otherwise (as
// the protocol says).
func (s *Server) Run(ctx context.Context) int {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		close(s.conn.closed)
		s.wg.Wait()
	}()
	for {
		body, err := s.conn.r.next()
		if errors.Is(err, errBadFrame) {
			s.log.Warn("lsp: bad frame", "err", err)
			s.conn.replyRaw(nil, nil, &jsonrpc2.Error{Code: jsonrpc2.ParseError, Message: err.Error()})
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Warn("lsp: the stream ended", "err", err)
			}
			return 1
		}
		msg, err := jsonrpc2.DecodeMessage(body)
		if err != nil {
			s.log.Warn("lsp: bad message", "err", err)
			s.conn.replyRaw(nil, nil, &jsonrpc2.Error{Code: jsonrpc2.ParseError, Message: "parse error: " + err.Error()})
			continue
		}
		switch m := msg.(type) {
		case *jsonrpc2.Response:
			s.conn.deliver(m)
		case *jsonrpc2.Notification:
			if m.Method() == protocol.MethodExit {
				s.mu.Lock()
				down := s.shutdown
				s.mu.Unlock()
				if down {
					return 0
				}
				return 1
			}
			s.notification(ctx, m)
		case *jsonrpc2.Call:
			s.request(ctx, m)
		}
	}
}

// notification handles one notification in the read loop: they are quick
// and their order matters (a didChange must apply before the next request
// reads the document).
func (s *Server) notification(ctx context.Context, n *jsonrpc2.Notification) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("lsp: notification handler panicked", "method", n.Method(), "panic", r, "stack", string(debug.Stack()))
		}
	}()
	var err error
	switch n.Method() {
	case protocol.MethodCancelRequest:
		var p struct {
			ID json.RawMessage `json:"id"`
		}
		if err = json.Unmarshal(n.Params(), &p); err == nil {
			s.conn.cancelRequest(p.ID)
		}
	case protocol.MethodInitialized:
	case protocol.MethodTextDocumentDidOpen:
		var uri protocol.DocumentURI
		if uri, err = s.didOpen(ctx, n.Params()); err == nil {
			s.scheduleDiagnostics(ctx, uri)
		}
	case protocol.MethodTextDocumentDidChange:
		var uri protocol.DocumentURI
		if uri, err = s.didChange(ctx, n.Params()); err == nil {
			s.scheduleDiagnostics(ctx, uri)
		}
	case protocol.MethodTextDocumentDidClose:
		err = s.didClose(ctx, n.Params())
	case protocol.MethodTextDocumentDidSave:
	case protocol.MethodWorkspaceDidChangeConfiguration:
		err = s.didChangeConfiguration(n.Params())
	default:
		s.log.Debug("lsp: notification ignored", "method", n.Method())
	}
	if err != nil {
		s.log.Warn("lsp: notification failed", "method", n.Method(), "err", err)
		s.logMessage(protocol.MessageTypeWarning, fmt.Sprintf("toppass: %s: %v", n.Method(), err))
	}
}

// request starts the handler of one request in its own goroutine.
func (s *Server) request(ctx context.Context, c *jsonrpc2.Call) {
	rctx, answer := s.conn.track(ctx, c.ID())
	method := c.Method()
	s.mu.Lock()
	inited, down := s.initialized, s.shutdown
	if method == protocol.MethodInitialize && !inited {
		s.initialized = true // the next initialize is an error
	}
	s.mu.Unlock()
	switch {
	case method == protocol.MethodInitialize && inited:
		answer(nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidRequest, Message: "initialize was already called"})
		return
	case method != protocol.MethodInitialize && !inited:
		answer(nil, &jsonrpc2.Error{Code: serverNotInitialized, Message: "the server is not initialized"})
		return
	case down && method != protocol.MethodShutdown:
		answer(nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidRequest, Message: "the server is shutting down"})
		return
	}
	if method == protocol.MethodInitialize {
		// Answered before anything else is read: its result sets up the
		// session.
		res, err := s.initialize(c.Params())
		answer(res, err)
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("lsp: handler panicked", "method", method, "panic", r, "stack", string(debug.Stack()))
				answer(nil, &jsonrpc2.Error{Code: jsonrpc2.InternalError, Message: fmt.Sprintf("toppass: internal error in %s: %v", method, r)})
			}
		}()
		res, err := s.handle(rctx, method, c.Params())
		if err != nil {
			s.log.Warn("lsp: request failed", "method", method, "err", err)
		}
		answer(res, err)
	}()
}

// handle runs one request.
func (s *Server) handle(ctx context.Context, method string, params json.RawMessage) (any, error) {
	switch method {
	case protocol.MethodShutdown:
		s.mu.Lock()
		s.shutdown = true
		s.mu.Unlock()
		return nil, nil
	case protocol.MethodTextDocumentCodeAction:
		return s.codeAction(ctx, params)
	case "codeAction/resolve":
		return s.resolveCodeAction(ctx, params)
	case protocol.MethodWorkspaceExecuteCommand:
		return s.executeCommand(ctx, params)
	case protocol.MethodTextDocumentHover:
		return s.hover(ctx, params)
	}
	return nil, &jsonrpc2.Error{Code: jsonrpc2.MethodNotFound, Message: "method not found: " + method}
}

// initialize answers the client's first request.
func (s *Server) initialize(raw json.RawMessage) (any, error) {
	var p struct {
		Capabilities struct {
			TextDocument struct {
				CodeAction struct {
					ResolveSupport *struct {
						Properties []string `json:"properties"`
					} `json:"resolveSupport"`
				} `json:"codeAction"`
			} `json:"textDocument"`
			Window struct {
				WorkDoneProgress bool `json:"workDoneProgress"`
				ShowDocument     *struct {
					Support bool `json:"support"`
				} `json:"showDocument"`
			} `json:"window"`
		} `json:"capabilities"`
		InitializationOptions json.RawMessage `json:"initializationOptions"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: "initialize: " + err.Error()}
		}
	}
	caps := clientCaps{progress: p.Capabilities.Window.WorkDoneProgress}
	if rs := p.Capabilities.TextDocument.CodeAction.ResolveSupport; rs != nil {
		for _, prop := range rs.Properties {
			caps.resolve = caps.resolve || prop == "edit"
		}
	}
	if sd := p.Capabilities.Window.ShowDocument; sd != nil {
		caps.showDocument = sd.Support
	}
	s.mu.Lock()
	s.clientCaps = caps
	if len(p.InitializationOptions) > 0 && string(p.InitializationOptions) != "null" {
		if err := s.settings.merge(p.InitializationOptions); err != nil {
			s.mu.Unlock()
			return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: "initializationOptions: " + err.Error()}
		}
	}
	s.mu.Unlock()
	return map[string]any{
		"capabilities": map[string]any{
			"textDocumentSync": map[string]any{"openClose": true, "change": protocol.TextDocumentSyncKindIncremental},
			"codeActionProvider": map[string]any{
				"codeActionKinds": []protocol.CodeActionKind{protocol.RefactorRewrite, protocol.Source},
				"resolveProvider": true,
			},
			"executeCommandProvider": map[string]any{"commands": commandNames},
			"hoverProvider":          true,
		},
		"serverInfo": map[string]any{"name": "toppass", "version": Version},
	}, nil
}

// showMessage tells the user something that needs action.
func (s *Server) showMessage(typ protocol.MessageType, msg string) {
	s.conn.notify(protocol.MethodWindowShowMessage, &protocol.ShowMessageParams{Type: typ, Message: msg})
}

// logMessage writes to the client's log.
func (s *Server) logMessage(typ protocol.MessageType, msg string) {
	s.conn.notify(protocol.MethodWindowLogMessage, &protocol.LogMessageParams{Type: typ, Message: msg})
}
