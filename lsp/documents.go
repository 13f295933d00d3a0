package lsp

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"go.lsp.dev/protocol"
)

// document is an open text document: the client's version of it.
type document struct {
	uri     protocol.DocumentURI
	lang    string
	version int32
	text    string
}

type documents struct {
	mu   sync.Mutex
	docs map[protocol.DocumentURI]*document
}

func newDocuments() *documents {
	return &documents{docs: map[protocol.DocumentURI]*document{}}
}

// get returns a snapshot of the document.
func (d *documents) get(uri protocol.DocumentURI) (document, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	doc, ok := d.docs[uri]
	if !ok {
		return document{}, false
	}
	return *doc, true
}

func (s *Server) didOpen(_ any, raw json.RawMessage) (protocol.DocumentURI, error) {
	var p protocol.DidOpenTextDocumentParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", err
	}
	s.docs.mu.Lock()
	s.docs.docs[p.TextDocument.URI] = &document{uri: p.TextDocument.URI, lang: string(p.TextDocument.LanguageID),
		version: p.TextDocument.Version, text: p.TextDocument.Text}
	s.docs.mu.Unlock()
	return p.TextDocument.URI, nil
}

func (s *Server) didClose(_ any, raw json.RawMessage) error {
	var p protocol.DidCloseTextDocumentParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	s.docs.mu.Lock()
	delete(s.docs.docs, p.TextDocument.URI)
	s.docs.mu.Unlock()
	return nil
}

func (s *Server) didChange(_ any, raw json.RawMessage) (protocol.DocumentURI, error) {
	// Our own struct: a change without a range replaces the whole text.
	var p struct {
		TextDocument protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
		Changes      []struct {
			Range *protocol.Range `json:"range"`
			Text  string          `json:"text"`
		} `json:"contentChanges"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", err
	}
	s.docs.mu.Lock()
	defer s.docs.mu.Unlock()
	doc, ok := s.docs.docs[p.TextDocument.URI]
	if !ok {
		return "", fmt.Errorf("change to a document that is not open: %s", p.TextDocument.URI)
	}
	text := doc.text
	for _, c := range p.Changes {
		if c.Range == nil {
			text = c.Text
			continue
		}
		start, err := offset(text, c.Range.Start)
		if err != nil {
			return "", err
		}
		end, err := offset(text, c.Range.End)
		if err != nil || end < start {
			return "", fmt.Errorf("bad change range %v", c.Range)
		}
		text = text[:start] + c.Text + text[end:]
	}
	doc.text, doc.version = text, p.TextDocument.Version
	return p.TextDocument.URI, nil
}

// offset converts an LSP position (line, UTF-16 column) to a byte offset.
// A column past the end of its line means the end of the line.
func offset(text string, pos protocol.Position) (int, error) {
	line := int(pos.Line)
	off := 0
	for i := 0; i < line; i++ {
		j := strings.IndexByte(text[off:], '\n')
		if j < 0 {
			return 0, fmt.Errorf("line %d is past the end of the document", pos.Line)
		}
		off += j + 1
	}
	col := int(pos.Character)
	for units := 0; units < col && off < len(text) && text[off] != '\n'; {
		r, size := utf8.DecodeRuneInString(text[off:])
		units += len(utf16.Encode([]rune{r}))
		off += size
	}
	return off, nil
}
