package lsp

import (
	"encoding/json"
	"fmt"
	"time"

	"go.lsp.dev/protocol"
)

// Settings are what a user sets, in initializationOptions or through
// workspace/didChangeConfiguration (either bare or under "toppass").
type Settings struct {
	TopK     int    `json:"topK"`     // code actions offered (default 3)
	Generate int    `json:"generate"` // candidates asked of the generator (default 10)
	Method   string `json:"method"`   // ranking method: hybrid, neural, lexical, exec
	Endpoint string `json:"endpoint"` // OpenAI-compatible base URL (default: the daemon's config)
	Model    string `json:"model"`    // the generator's model (default: the daemon's config)
	// Timeout bounds one ranking or generation request ("30s").
	Timeout string `json:"timeout"`
	// Diagnostics runs functions with docstring examples as written
	// (default true).
	Diagnostics *bool `json:"diagnostics"`
}

func (s Settings) diagnostics() bool { return s.Diagnostics == nil || *s.Diagnostics }

// DefaultSettings are the settings before the client sends any.
func DefaultSettings() Settings {
	return Settings{TopK: 3, Generate: 10, Method: "hybrid", Timeout: "120s"}
}

func (s Settings) timeout() time.Duration {
	d, err := time.ParseDuration(s.Timeout)
	if err != nil || d <= 0 {
		return 120 * time.Second
	}
	return d
}

// merge applies raw (an object, possibly under "toppass") over s,
// checking every value; on error s is unchanged.
func (s *Settings) merge(raw json.RawMessage) error {
	var wrap map[string]json.RawMessage
	if err := json.Unmarshal(raw, &wrap); err != nil {
		return fmt.Errorf("settings must be an object: %w", err)
	}
	if inner, ok := wrap["toppass"]; ok {
		raw = inner
	}
	next := *s
	if err := json.Unmarshal(raw, &next); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	switch {
	case next.TopK < 1 || next.TopK > 50:
		return fmt.Errorf("topK must be between 1 and 50, not %d", next.TopK)
	case next.Generate < 1 || next.Generate > 200:
		return fmt.Errorf("generate must be between 1 and 200, not %d", next.Generate)
	}
	switch next.Method {
	case "hybrid", "neural", "lexical", "exec":
	default:
		return fmt.Errorf("method must be hybrid, neural, lexical or exec, not %q", next.Method)
	}
	if _, err := time.ParseDuration(next.Timeout); err != nil {
		return fmt.Errorf("timeout: %w", err)
	}
	*s = next
	return nil
}

func (s *Server) didChangeConfiguration(raw json.RawMessage) error {
	var p struct {
		Settings json.RawMessage `json:"settings"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	if len(p.Settings) == 0 || string(p.Settings) == "null" {
		return nil
	}
	s.mu.Lock()
	err := s.settings.merge(p.Settings)
	s.mu.Unlock()
	if err != nil {
		s.showMessage(protocol.MessageTypeError, "toppass: "+err.Error())
	}
	return err
}

func (s *Server) currentSettings() Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}
