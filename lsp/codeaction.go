package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/toppass/toppass/daemon"
)

// Code actions: for the function at the cursor, "use candidate #k" for
// the top k of its ranking (each an edit that replaces the function's
// body, or the whole function for a whole program), then commands to
// show all candidates and to generate more; with no candidates yet, the
// command that generates them.

// actionData rides in a code action that the client resolves later.
type actionData struct {
	URI     protocol.DocumentURI `json:"uri"`
	Version int32                `json:"version"`
	Task    string               `json:"task"`
	Index   int                  `json:"index"`
	Line    int                  `json:"line"`
}

func (s *Server) codeAction(ctx context.Context, raw json.RawMessage) (any, error) {
	var p protocol.CodeActionParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: err.Error()}
	}
	doc, ok := s.docs.get(p.TextDocument.URI)
	if !ok {
		return []protocol.CodeAction{}, nil
	}
	f, ok := funcAt(doc.text, int(p.Range.Start.Line))
	if !ok {
		// A selection that starts outside a function: the first function
		// that begins inside it.
		for _, g := range funcs(doc.text) {
			if g.Def >= int(p.Range.Start.Line) && g.Def <= int(p.Range.End.Line) {
				f, ok = g, true
				break
			}
		}
	}
	if !ok {
		return []protocol.CodeAction{}, nil
	}
	prob := f.problem()
	pos := positionArgs{URI: doc.uri, Line: f.Def}
	pc, ok := s.cands.get(prob.TaskID)
	if !ok || len(pc.cands) == 0 {
		return only([]protocol.CodeAction{command(fmt.Sprintf("toppass: generate candidates for %s()", f.Name), cmdGenerate, pos)}, p.Context.Only), nil
	}
	res, err := s.ranking(ctx, pc)
	if err != nil {
		// Code actions are asked for at every cursor move: the failure
		// was reported once (ranking); offer to generate again.
		return only([]protocol.CodeAction{command(fmt.Sprintf("toppass: generate candidates for %s()", f.Name), cmdGenerate, pos)}, p.Context.Only), nil
	}
	set := s.currentSettings()
	caps := s.clientCaps
	var out []protocol.CodeAction
	for k, r := range res.Ranked {
		if k >= set.TopK {
			break
		}
		a := protocol.CodeAction{Title: actionTitle(k+1, r), Kind: protocol.RefactorRewrite, IsPreferred: k == 0}
		if caps.resolve {
			a.Data = actionData{URI: doc.uri, Version: doc.version, Task: prob.TaskID, Index: r.Index, Line: f.Def}
		} else {
			edit := replaceEdit(doc, f, pc, r)
			a.Edit = &edit
		}
		out = append(out, a)
	}
	out = append(out,
		command(fmt.Sprintf("toppass: show all %d ranked candidates for %s()", len(res.Ranked), f.Name), cmdShow, pos),
		command(fmt.Sprintf("toppass: generate %d more candidates for %s()", set.Generate, f.Name), cmdGenerate, pos))
	return only(out, p.Context.Only), nil
}

// only keeps the actions of the kinds the client asked for (a kind
// matches its sub-kinds: "refactor" takes "refactor.rewrite").
func only(acts []protocol.CodeAction, kinds []protocol.CodeActionKind) []protocol.CodeAction {
	if len(kinds) == 0 {
		return acts
	}
	out := []protocol.CodeAction{}
	for _, a := range acts {
		for _, k := range kinds {
			if a.Kind == k || strings.HasPrefix(string(a.Kind), string(k)+".") {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// ranking ranks the problem's candidates (the daemon answers from its
// cache when nothing changed) and keeps the result.
func (s *Server) ranking(ctx context.Context, pc *problemCands) (*daemon.RankResult, error) {
	if pc.ranked != nil {
		return pc.ranked, nil
	}
	res, err := s.rank(ctx, &daemon.RankParams{Problem: pc.problem, Candidates: pc.cands, Method: s.currentSettings().Method})
	if err != nil {
		s.reportBackendError(err)
		return nil, err
	}
	s.cands.setRanked(pc.problem.TaskID, res)
	return res, nil
}

// actionTitle is "toppass: use candidate #1 — P(pass) 0.83 · passes 3/3 examples".
func actionTitle(k int, r daemon.Ranked) string {
	parts := []string{fmt.Sprintf("P(pass) %.2f", r.PPass)}
	if r.Examples > 0 {
		parts = append(parts, fmt.Sprintf("passes %d/%d examples", r.ExamplesPassed, r.Examples))
	}
	if r.Fault != "" && r.Fault != "pass" && r.PPass < 0.5 {
		parts = append(parts, "predicted fault: "+r.Fault)
	}
	return fmt.Sprintf("toppass: use candidate #%d — %s", k, strings.Join(parts, " · "))
}

// replaceEdit replaces the function's body with a completion, or the
// whole function with a whole program.
func replaceEdit(doc document, f *pyFunc, pc *problemCands, r daemon.Ranked) protocol.WorkspaceEdit {
	whole := false
	for _, c := range pc.cands {
		if c.Index != nil && *c.Index == r.Index {
			whole = c.Solution != nil
		}
	}
	code := strings.TrimRight(r.Code, "\n") + "\n"
	start := protocol.Position{Line: uint32(f.Body)}
	if whole {
		start = protocol.Position{Line: uint32(f.Def)}
	}
	end := protocol.Position{Line: uint32(f.End)}
	lines := strings.Count(doc.text, "\n") + 1
	if f.End >= lines {
		// The function ends the document: replace to its very end.
		last := doc.text[strings.LastIndexByte(doc.text, '\n')+1:]
		end = protocol.Position{Line: uint32(lines - 1), Character: uint32(utf16Len(last))}
		if !strings.HasSuffix(doc.text, "\n") {
			code = strings.TrimRight(code, "\n")
		}
	}
	edit := protocol.TextEdit{Range: protocol.Range{Start: start, End: end}, NewText: code}
	return protocol.WorkspaceEdit{Changes: map[protocol.DocumentURI][]protocol.TextEdit{doc.uri: {edit}}}
}

func (s *Server) resolveCodeAction(ctx context.Context, raw json.RawMessage) (any, error) {
	var a protocol.CodeAction
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: err.Error()}
	}
	b, _ := json.Marshal(a.Data)
	var d actionData
	if err := json.Unmarshal(b, &d); err != nil || d.Task == "" {
		return a, nil // nothing to resolve (a command)
	}
	doc, ok := s.docs.get(d.URI)
	if !ok {
		return nil, &jsonrpc2.Error{Code: jsonrpc2.InvalidParams, Message: "the document is closed"}
	}
	f, ok := funcAt(doc.text, d.Line)
	if !ok || f.problem().TaskID != d.Task {
		return nil, &jsonrpc2.Error{Code: requestFailed, Message: "the function changed since the code action was offered; ask again"}
	}
	pc, ok := s.cands.get(d.Task)
	if !ok {
		return nil, &jsonrpc2.Error{Code: requestFailed, Message: "no candidates for this function"}
	}
	res, err := s.ranking(ctx, pc)
	if err != nil {
		return nil, err
	}
	for _, r := range res.Ranked {
		if r.Index == d.Index {
			edit := replaceEdit(doc, f, pc, r)
			a.Edit = &edit
			return a, nil
		}
	}
	return nil, &jsonrpc2.Error{Code: requestFailed, Message: "that candidate is gone"}
}

// requestFailed is LSP's RequestFailed error code.
const requestFailed = -32803

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
