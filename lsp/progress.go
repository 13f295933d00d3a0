package lsp

import (
	"context"
	"fmt"
	"sync/atomic"

	"go.lsp.dev/protocol"
)

// Work-done progress for long requests (generation), when the client
// supports it: window/workDoneProgress/create, then $/progress begin and
// end.

var progressTokens atomic.Int64

type progress struct {
	s     *Server
	token string
}

func (s *Server) startProgress(ctx context.Context, title string) *progress {
	if !s.clientCaps.progress {
		s.logMessage(protocol.MessageTypeInfo, title)
		return &progress{s: s}
	}
	p := &progress{s: s, token: fmt.Sprintf("toppass-%d", progressTokens.Add(1))}
	if err := s.conn.call(ctx, "window/workDoneProgress/create", map[string]any{"token": p.token}, nil); err != nil {
		p.token = ""
		return p
	}
	s.conn.notify(protocol.MethodProgress, map[string]any{"token": p.token,
		"value": map[string]any{"kind": "begin", "title": title, "cancellable": false}})
	return p
}

func (p *progress) end(msg string) {
	if p.token == "" {
		p.s.logMessage(protocol.MessageTypeInfo, msg)
		return
	}
	p.s.conn.notify(protocol.MethodProgress, map[string]any{"token": p.token,
		"value": map[string]any{"kind": "end", "message": msg}})
}
