package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// hover on a function's def line shows the ranking's evidence for its
// candidates, when there are some.
func (s *Server) hover(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.HoverParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: err.Error()}
	}
	doc, ok := s.docs.get(p.TextDocument.URI)
	if !ok {
		return nil, nil
	}
	f, ok := funcAt(doc.text, int(p.Position.Line))
	if !ok || int(p.Position.Line) != f.Def {
		return nil, nil
	}
	pc, ok := s.cands.get(f.problem().TaskID)
	if !ok {
		return nil, nil
	}
	res, err := s.ranking(ctx, pc)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**toppass** — %d candidates for `%s()`, ranked by %s\n\n", len(res.Ranked), f.Name, res.Method)
	b.WriteString("| # | P(pass) | examples | fault | group |\n|---|---|---|---|---|\n")
	for k, r := range res.Ranked {
		if k >= 10 {
			break
		}
		ex := "–"
		if r.Examples > 0 {
			ex = fmt.Sprintf("%d/%d", r.ExamplesPassed, r.Examples)
		}
		fault := r.Fault
		if fault == "" {
			fault = "–"
		}
		fmt.Fprintf(&b, "| %d | %.2f | %s | %s | %d |\n", k+1, r.PPass, ex, fault, r.Cluster)
	}
	return &protocol.Hover{Contents: protocol.MarkupContent{Kind: protocol.Markdown, Value: b.String()}}, nil
}
