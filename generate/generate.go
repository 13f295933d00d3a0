// Package generate asks an OpenAI-compatible server (llama.cpp's server,
// Ollama, vLLM, or a hosted one) for candidate programs.
//
// Two wire formats: /v1/completions, where the model continues the prompt
// (a function signature and docstring) and stop sequences end the body,
// and /v1/chat/completions, where the model is asked for the function and
// the code is taken from the first fenced block of its answer. Requests
// time out, are retried with exponential backoff when the server is busy
// or unreachable, and fail with an error that says which server and why.
package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Config is a generator.
type Config struct {
	BaseURL     string // e.g. http://127.0.0.1:8080/v1
	APIKey      string
	Model       string
	Chat        bool
	Temperature float64
	MaxTokens   int
	Stop        []string
	Timeout     time.Duration // per request
	Retries     int
	// Backoff is the first retry's wait (default 500 ms), doubled each time.
	Backoff time.Duration
	HTTP    *http.Client
}

// Client talks to one server.
type Client struct{ cfg Config }

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("no generator configured: set generator.base_url in config.toml, or OPENAI_BASE_URL")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	return &Client{cfg: cfg}, nil
}

// Generate returns n programs for prompt: completions that continue it,
// or (chat) whole programs taken from the answers' code blocks.
func (c *Client) Generate(ctx context.Context, prompt string, n int) ([]string, error) {
	if n < 1 {
		return nil, errors.New("n must be positive")
	}
	body := map[string]any{"model": c.cfg.Model, "n": n, "temperature": c.cfg.Temperature, "max_tokens": c.cfg.MaxTokens}
	path := "/completions"
	if c.cfg.Chat {
		path = "/chat/completions"
		body["messages"] = []map[string]string{
			{"role": "system", "content": "You are a careful Python programmer. Answer with one complete Python code block and nothing else."},
			{"role": "user", "content": "Complete this Python function; keep its name and signature, include any imports it needs:\n\n```python\n" + prompt + "\n```"},
		}
	} else {
		body["prompt"] = prompt
		if len(c.cfg.Stop) > 0 {
			body["stop"] = c.cfg.Stop
		}
	}
	var resp struct {
		Choices []struct {
			Text    string `json:"text"`
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := c.post(ctx, path, body, &resp); err != nil {
		return nil, err
	}
	if len(resp.Choices) == 0 {
		return nil, fmt.Errorf("generator %s: the answer has no choices", c.cfg.BaseURL)
	}
	out := make([]string, len(resp.Choices))
	for i, ch := range resp.Choices {
		if c.cfg.Chat {
			out[i] = CodeBlock(ch.Message.Content)
		} else {
			out[i] = ch.Text
		}
	}
	return out, nil
}

// httpError is a non-2xx answer.
type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// retryable: the server is down, overloaded or failing, not refusing us.
func retryable(err error) bool {
	var he *httpError
	if errors.As(err, &he) {
		return he.status == http.StatusTooManyRequests || he.status >= 500
	}
	return true // network errors and timeouts
}

func (c *Client) post(ctx context.Context, path string, body, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	url := c.cfg.BaseURL + path
	wait := c.cfg.Backoff
	var last error
	for attempt := 0; attempt <= c.cfg.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
			wait *= 2
		}
		last = c.once(ctx, url, payload, out)
		if last == nil || ctx.Err() != nil || !retryable(last) {
			break
		}
	}
	if last != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("generator %s: %w", url, last)
	}
	return nil
}

func (c *Client) once(ctx context.Context, url string, payload []byte, out any) error {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		if rctx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("no answer within %v", c.cfg.Timeout)
		}
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(data))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return &httpError{resp.StatusCode, msg}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("invalid JSON answer: %w", err)
	}
	return nil
}

var fence = regexp.MustCompile("(?s)```[ \\t]*(?:python|py|python3)?[ \\t]*\\n(.*?)```")

// CodeBlock returns the code of the first fenced block of a chat answer
// (the whole answer when it has none).
func CodeBlock(answer string) string {
	if m := fence.FindStringSubmatch(answer); m != nil {
		return m[1]
	}
	return answer
}
