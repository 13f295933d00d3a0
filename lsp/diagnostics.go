package lsp

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/protocol"

	"github.com/toppass/toppass/daemon"
	"github.com/toppass/toppass/dataset"
)

// Diagnostics for the code as written: for each function with a body and
// docstring examples, the daemon runs the function as a candidate of its
// own problem; examples that fail in the sandbox are a warning on the def
// line, and the ranker's predicted fault (when it predicts a failure) an
// information at the line it points to. Computed in the background after
// the document stops changing.

const diagnosticsDelay = 400 * time.Millisecond

type diagnoser struct {
	mu      sync.Mutex
	pending map[protocol.DocumentURI]context.CancelFunc
}

// scheduleDiagnostics computes uri's diagnostics after diagnosticsDelay,
// cancelling an earlier computation for it; ctx is the session's.
func (s *Server) scheduleDiagnostics(ctx context.Context, uri protocol.DocumentURI) {
	if !s.currentSettings().diagnostics() || s.backend == nil {
		return
	}
	s.diag.mu.Lock()
	if s.diag.pending == nil {
		s.diag.pending = map[protocol.DocumentURI]context.CancelFunc{}
	}
	if cancel := s.diag.pending[uri]; cancel != nil {
		cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	s.diag.pending[uri] = cancel
	s.diag.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-time.After(diagnosticsDelay):
		case <-ctx.Done():
			return
		case <-s.conn.closed:
			return
		}
		s.publishDiagnostics(ctx, uri)
	}()
}

func (s *Server) publishDiagnostics(ctx context.Context, uri protocol.DocumentURI) {
	doc, ok := s.docs.get(uri)
	if !ok {
		return
	}
	diags := []protocol.Diagnostic{}
	for _, f := range funcs(doc.text) {
		if f.Stub || !strings.Contains(f.Doc, ">>>") {
			continue
		}
		d, err := s.diagnose(ctx, doc, f)
		if ctx.Err() != nil {
			return // a newer version of the document is on its way
		}
		if err != nil {
			s.log.Warn("lsp: diagnostics", "func", f.Name, "err", err)
			s.logMessage(protocol.MessageTypeWarning, "toppass: diagnostics for "+f.Name+"(): "+err.Error())
			continue
		}
		diags = append(diags, d...)
	}
	if cur, ok := s.docs.get(uri); !ok || cur.version != doc.version {
		return
	}
	s.conn.notify(protocol.MethodTextDocumentPublishDiagnostics, &protocol.PublishDiagnosticsParams{
		URI: uri, Version: uint32(max(doc.version, 0)), Diagnostics: diags})
}

func (s *Server) diagnose(ctx context.Context, doc document, f *pyFunc) ([]protocol.Diagnostic, error) {
	prob := f.problem()
	res, err := s.rank(ctx, &daemon.RankParams{Problem: prob, Candidates: []*dataset.Candidate{f.current(doc.text)}, Method: "hybrid"})
	if err != nil {
		return nil, err
	}
	if len(res.Ranked) != 1 {
		return nil, fmt.Errorf("the daemon ranked %d candidates, want 1", len(res.Ranked))
	}
	r := res.Ranked[0]
	lines := strings.Split(doc.text, "\n")
	defRange := protocol.Range{Start: protocol.Position{Line: uint32(f.Def), Character: uint32(len(f.Indent))},
		End: protocol.Position{Line: uint32(f.Def), Character: uint32(utf16Len(lines[f.Def]))}}
	var out []protocol.Diagnostic
	if r.Examples > 0 && r.ExamplesPassed < r.Examples {
		out = append(out, protocol.Diagnostic{Range: defRange, Severity: protocol.DiagnosticSeverityWarning, Source: "toppass",
			Code: "examples", Message: fmt.Sprintf("%d of %d docstring examples fail when %s() runs in the sandbox",
				r.Examples-r.ExamplesPassed, r.Examples, f.Name)})
	}
	if r.SyntaxError {
		out = append(out, protocol.Diagnostic{Range: defRange, Severity: protocol.DiagnosticSeverityError, Source: "toppass",
			Code: "syntax", Message: "toppass: the function does not compile"})
	}
	if r.Fault != "" && r.Fault != "pass" && r.PPass < 0.5 {
		rng := defRange
		if ln := f.Body + r.ErrorLine - 1; r.ErrorLine > 0 && ln < f.End && ln < len(lines) {
			text := lines[ln]
			rng = protocol.Range{Start: protocol.Position{Line: uint32(ln), Character: uint32(indentOf(text))},
				End: protocol.Position{Line: uint32(ln), Character: uint32(utf16Len(text))}}
		}
		out = append(out, protocol.Diagnostic{Range: rng, Severity: protocol.DiagnosticSeverityInformation, Source: "toppass",
			Code: "predicted-fault", Message: fmt.Sprintf("predicted fault: %s (P(pass) %.2f)", r.Fault, r.PPass)})
	}
	return out, nil
}
