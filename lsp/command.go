package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/toppass/toppass/daemon"
)

// Commands (workspace/executeCommand). Each takes one argument: the
// position of the function, {uri, line}.
const (
	cmdGenerate = "toppass.generate"
	cmdShow     = "toppass.showCandidates"
)

var commandNames = []string{cmdGenerate, cmdShow}

type positionArgs struct {
	URI  protocol.DocumentURI `json:"uri"`
	Line int                  `json:"line"`
}

func command(title, name string, args positionArgs) protocol.CodeAction {
	return protocol.CodeAction{Title: title, Kind: protocol.Source,
		Command: &protocol.Command{Title: title, Command: name, Arguments: []any{args}}}
}

func (s *Server) executeCommand(ctx context.Context, raw json.RawMessage) (any, error) {
	var p struct {
		Command   string            `json:"command"`
		Arguments []json.RawMessage `json:"arguments"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: err.Error()}
	}
	var args positionArgs
	if len(p.Arguments) != 1 || json.Unmarshal(p.Arguments[0], &args) != nil || args.URI == "" {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: p.Command + " takes one argument: {uri, line}"}
	}
	doc, ok := s.docs.get(args.URI)
	if !ok {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: "the document is not open: " + string(args.URI)}
	}
	f, ok := funcAt(doc.text, args.Line)
	if !ok {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: fmt.Sprintf("no function at line %d", args.Line+1)}
	}
	switch p.Command {
	case cmdGenerate:
		return s.generate(ctx, f)
	case cmdShow:
		return s.showCandidates(ctx, doc, f)
	}
	return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: "unknown command " + p.Command}
}

// generate asks the daemon to generate candidates for f and rank them,
// with progress in the editor.
func (s *Server) generate(ctx context.Context, f *pyFunc) (any, error) {
	set := s.currentSettings()
	prob := f.problem()
	prog := s.startProgress(ctx, fmt.Sprintf("toppass: generating %d candidates for %s()", set.Generate, f.Name))
	res, err := s.rank(ctx, &daemon.RankParams{Problem: prob, N: set.Generate, Method: set.Method,
		Endpoint: set.Endpoint, Model: set.Model})
	if err != nil {
		prog.end("failed: " + err.Error())
		s.reportBackendError(err)
		return nil, err
	}
	s.cands.add(prob, res)
	best := 0.0
	if len(res.Ranked) > 0 {
		best = res.Ranked[0].PPass
	}
	msg := fmt.Sprintf("toppass: %d candidates for %s() ranked (best P(pass) %.2f); the code actions offer them", len(res.Ranked), f.Name, best)
	prog.end(msg)
	s.showMessage(protocol.MessageTypeInfo, msg)
	return map[string]any{"generated": res.Generated, "ranked": len(res.Ranked)}, nil
}

// showCandidates writes every ranked candidate, with its evidence, to a
// scratch document and asks the client to show it.
func (s *Server) showCandidates(ctx context.Context, doc document, f *pyFunc) (any, error) {
	pc, ok := s.cands.get(f.problem().TaskID)
	if !ok {
		return nil, &jsonrpc2.Error{Code: requestFailed, Message: fmt.Sprintf("no candidates for %s() yet: generate them first", f.Name)}
	}
	res, err := s.ranking(ctx, pc)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# toppass: %d ranked candidates for %s() (method %s, model %s)\n", len(res.Ranked), f.Name, res.Method, res.Model)
	fmt.Fprintf(&b, "# from %s\n\n", doc.uri)
	for k, r := range res.Ranked {
		fmt.Fprintf(&b, "# ── #%d  %s\n", k+1, strings.TrimPrefix(actionTitle(k+1, r), fmt.Sprintf("toppass: use candidate #%d — ", k+1)))
		if r.ErrorLine > 0 {
			fmt.Fprintf(&b, "#    predicted failing line %d\n", r.ErrorLine)
		}
		fmt.Fprintf(&b, "#    score %.3f · agreement %.2f · behaviour group %d", r.Score, r.Agreement, r.Cluster)
		if note := r.BehaviourNote(); note != "" {
			b.WriteString(" · " + note)
		}
		b.WriteString("\n")
		b.WriteString(strings.TrimRight(r.Code, "\n"))
		b.WriteString("\n\n")
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("toppass-lsp-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, f.Name+"-candidates.py")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	uri := protocol.DocumentURI("file://" + path)
	if s.clientCaps.showDocument {
		var out struct {
			Success bool `json:"success"`
		}
		if err := s.conn.call(ctx, "window/showDocument", &protocol.ShowDocumentParams{URI: protocol.URI(uri), TakeFocus: true}, &out); err == nil && out.Success {
			return map[string]any{"uri": uri}, nil
		}
	}
	s.showMessage(protocol.MessageTypeInfo, "toppass: the ranked candidates are in "+path)
	return map[string]any{"uri": uri}, nil
}

// reportBackendError tells the user that the daemon or the generator is
// not available (they need to act): the same message at most once every
// 30 s (code actions are asked for at every cursor move); the log gets
// every one.
func (s *Server) reportBackendError(err error) {
	if err == nil || strings.Contains(err.Error(), "context canceled") {
		return
	}
	msg := "toppass: " + err.Error()
	s.logMessage(protocol.MessageTypeError, msg)
	s.mu.Lock()
	if s.lastError == msg && time.Since(s.lastErrorAt) < 30*time.Second {
		s.mu.Unlock()
		return
	}
	s.lastError, s.lastErrorAt = msg, time.Now()
	s.mu.Unlock()
	s.showMessage(protocol.MessageTypeError, msg)
}
