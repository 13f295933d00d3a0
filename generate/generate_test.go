package generate

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toppass/toppass/dataset"
)

// replay is a loopback server that speaks the OpenAI wire format and
// answers with recorded candidates: for a prompt, the completions recorded
// for the problem with that prompt (the shipped sample here).
type replay struct {
	byPrompt  map[string][]string
	calls     atomic.Int32
	failFirst int32 // answer 503 to this many requests first
	lastBody  map[string]any
}

func newReplay(t *testing.T) *replay {
	t.Helper()
	probs, _, err := dataset.ReadProblems("../testdata/sample/problems.jsonl", func(e *dataset.LineError) error { return e })
	if err != nil {
		t.Fatal(err)
	}
	r := &replay{byPrompt: map[string][]string{}}
	err = dataset.ReadCandidates("../testdata/sample/candidates.jsonl", func(c *dataset.Candidate) error {
		if c.Completion != nil {
			p := probs[c.TaskID].Prompt
			r.byPrompt[p] = append(r.byPrompt[p], *c.Completion)
		}
		return nil
	}, func(e *dataset.LineError) error { return e })
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.calls.Add(1) <= r.failFirst {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	r.lastBody = body
	n := int(body["n"].(float64))
	var choices []map[string]any
	switch req.URL.Path {
	case "/v1/completions":
		recs := r.byPrompt[body["prompt"].(string)]
		if recs == nil {
			recs = []string{"    pass\n"} // a prompt nobody recorded
		}
		for i := range n {
			if len(recs) > 0 {
				choices = append(choices, map[string]any{"index": i, "text": recs[i%len(recs)]})
			}
		}
	case "/v1/chat/completions":
		for i := range n {
			choices = append(choices, map[string]any{"index": i, "message": map[string]any{"role": "assistant",
				"content": "Here it is:\n```python\ndef f(x):\n    return x + " + string(rune('0'+i)) + "\n```\nDone."}})
		}
	default:
		http.NotFound(w, req)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"choices": choices})
}

func TestCompletionsReplay(t *testing.T) {
	r := newReplay(t)
	srv := httptest.NewServer(r)
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/v1", Model: "m", Temperature: 0.8, MaxTokens: 100, Stop: []string{"\ndef "}})
	if err != nil {
		t.Fatal(err)
	}
	var prompt string
	for p := range r.byPrompt {
		if strings.Contains(p, "def digit_sum") {
			prompt = p
		}
	}
	got, err := c.Generate(context.Background(), prompt, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != r.byPrompt[prompt][0] {
		t.Fatalf("got %q", got)
	}
	if r.lastBody["model"] != "m" || r.lastBody["max_tokens"].(float64) != 100 || r.lastBody["stop"] == nil {
		t.Fatalf("request %v", r.lastBody)
	}
}

func TestChatTakesCodeBlocks(t *testing.T) {
	srv := httptest.NewServer(newReplay(t))
	defer srv.Close()
	c, _ := New(Config{BaseURL: srv.URL + "/v1/", Chat: true})
	got, err := c.Generate(context.Background(), "def f(x):\n", 2)
	if err != nil || len(got) != 2 || got[1] != "def f(x):\n    return x + 1\n" {
		t.Fatalf("%q %v", got, err)
	}
}

// A busy server is retried with backoff; a server that is down is a clear
// error naming it; a slow one times out.
func TestRetriesAndFailures(t *testing.T) {
	r := newReplay(t)
	r.failFirst = 2
	srv := httptest.NewServer(r)
	c, _ := New(Config{BaseURL: srv.URL + "/v1", Retries: 3, Backoff: time.Millisecond})
	if _, err := c.Generate(context.Background(), "x", 1); err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	if r.calls.Load() != 3 {
		t.Fatalf("%d calls", r.calls.Load())
	}
	url := srv.URL
	srv.Close()
	c, _ = New(Config{BaseURL: url + "/v1", Retries: 1, Backoff: time.Millisecond})
	if _, err := c.Generate(context.Background(), "x", 1); err == nil || !strings.Contains(err.Error(), url) {
		t.Fatalf("server down: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	slow := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(2 * time.Second) })}
	go slow.Serve(ln)
	defer slow.Close()
	c, _ = New(Config{BaseURL: "http://" + ln.Addr().String() + "/v1", Timeout: 100 * time.Millisecond})
	if _, err := c.Generate(context.Background(), "x", 1); err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("slow server: %v", err)
	}
	// A refusal (4xx) is not retried.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no such model", 404) }))
	defer bad.Close()
	var n atomic.Int32
	c, _ = New(Config{BaseURL: bad.URL + "/v1", Retries: 3, Backoff: time.Millisecond,
		HTTP: &http.Client{Transport: countTransport{&n}}})
	if _, err := c.Generate(context.Background(), "x", 1); err == nil || !strings.Contains(err.Error(), "no such model") || n.Load() != 1 {
		t.Fatalf("refusal: %v after %d calls", err, n.Load())
	}
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "no generator configured") {
		t.Fatalf("no base URL: %v", err)
	}
}

type countTransport struct{ n *atomic.Int32 }

func (c countTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestCodeBlock(t *testing.T) {
	for in, want := range map[string]string{
		"```python\nx = 1\n```":                "x = 1\n",
		"text\n```\ny = 2\n```\n```py\nz\n```": "y = 2\n",
		"no fence":                             "no fence",
	} {
		if got := CodeBlock(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
