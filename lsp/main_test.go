package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toppass/toppass/daemon"
	"github.com/toppass/toppass/internal/testbin"
)

// The tests run the real daemon (the toppass binary, built once) with its
// XDG folders in a temporary directory, and a loopback OpenAI-compatible
// server as the generator.

var binary string

func TestMain(m *testing.M) { testbin.Main(m, "../cmd/toppass", &binary) }

// world is one user's setup: XDG folders, a daemon config pointing at a
// loopback generator, and the environment for processes.
type world struct {
	t     *testing.T
	paths daemon.Paths
	env   []string
	gen   *httptest.Server
	// hold, when set, makes the generator wait for it (or the request's
	// end) before answering.
	mu   sync.Mutex
	hold chan struct{}
	// arrived gets a value when a held request reaches the generator.
	arrived chan struct{}
}

// The generator's answers: for HumanEval/0-like prompts (has_close_elements)
// a correct and a wrong completion, alternating.
const (
	goodBody = "    for i, a in enumerate(numbers):\n        for j, b in enumerate(numbers):\n            if i != j and abs(a - b) < threshold:\n                return True\n    return False\n"
	badBody  = "    return False\n"
)

func newWorld(t *testing.T) *world {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the language server tests run the daemon")
	}
	w := &world{t: t, arrived: make(chan struct{}, 16)}
	var err error
	if w.paths, w.env, err = daemon.IsolatedPaths(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	for _, kv := range w.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	w.env = append(w.env, "OPENAI_BASE_URL=", "OPENAI_API_KEY=")
	w.gen = httptest.NewServer(http.HandlerFunc(w.serveGenerator))
	t.Cleanup(w.gen.Close)
	cfg := fmt.Sprintf("workers = 2\n[generator]\nbase_url = %q\nretries = 0\ntimeout = \"60s\"\n", w.gen.URL+"/v1")
	if err := os.WriteFile(w.paths.ConfigFile(), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.stopDaemon)
	return w
}

func (w *world) serveGenerator(rw http.ResponseWriter, r *http.Request) {
	var body struct {
		N int `json:"n"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	w.mu.Lock()
	hold := w.hold
	w.mu.Unlock()
	if hold != nil {
		select {
		case w.arrived <- struct{}{}:
		default:
		}
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	var choices []map[string]any
	for i := range max(body.N, 1) {
		text := goodBody
		if i%2 == 1 {
			text = badBody
		}
		choices = append(choices, map[string]any{"text": text, "index": i})
	}
	json.NewEncoder(rw).Encode(map[string]any{"choices": choices})
}

// waitArrived waits until a held request reaches the generator: the
// request is then in flight in the daemon.
func (w *world) waitArrived() {
	select {
	case <-w.arrived:
	case <-time.After(120 * time.Second):
		w.t.Fatal("the request never reached the generator")
	}
}

func (w *world) stopDaemon() {
	cmd := exec.Command(binary, "stop")
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Run()
}

// daemonPID is the running daemon's pid.
func (w *world) daemonPID() int {
	cl, err := daemon.Dial(context.Background(), w.paths)
	if err != nil {
		w.t.Fatal(err)
	}
	defer cl.Close()
	var st daemon.Status
	if err := cl.Call(context.Background(), daemon.MethodStatus, nil, &st); err != nil {
		w.t.Fatal(err)
	}
	return st.PID
}

// client speaks to a server in this process over pipes, frame by frame,
// so that tests can also write what no client would.
type client struct {
	t    *testing.T
	in   io.WriteCloser // to the server
	srv  *Server
	done chan int

	mu      sync.Mutex
	waiting map[string]chan map[string]any
	notes   []map[string]any
	noteCh  chan map[string]any
	nextID  int
}

func startServer(t *testing.T, w *world) *client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var backend Backend
	if w != nil {
		backend = &DaemonBackend{Paths: w.paths, Exe: binary}
	}
	srv := New(inR, outW, backend, log)
	c := &client{t: t, in: inW, srv: srv, done: make(chan int, 1), waiting: map[string]chan map[string]any{},
		noteCh: make(chan map[string]any, 1024)}
	go func() {
		c.done <- srv.Run(context.Background())
		outW.Close()
	}()
	go c.readLoop(outR)
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			t.Error("the server did not end when its input closed")
		}
	})
	return c
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (c *client) readLoop(out io.Reader) {
	r := reader{in: bufio.NewReader(out)}
	for {
		body, err := r.next()
		if err != nil {
			return
		}
		var msg map[string]any
		if err := json.Unmarshal(body, &msg); err != nil {
			c.t.Errorf("the server wrote bad JSON: %s", body)
			continue
		}
		_, hasID := msg["id"]
		method, _ := msg["method"].(string)
		switch {
		case method != "" && hasID: // a request from the server: accept it
			result := any(nil)
			if method == "window/showDocument" {
				result = map[string]any{"success": true}
			}
			c.write(map[string]any{"jsonrpc": "2.0", "id": msg["id"], "result": result})
			c.note(msg)
		case method != "":
			c.note(msg)
		default:
			key, _ := json.Marshal(msg["id"])
			c.mu.Lock()
			ch := c.waiting[string(key)]
			delete(c.waiting, string(key))
			c.mu.Unlock()
			if ch != nil {
				ch <- msg
			} else {
				c.note(msg) // an answer to nothing we asked (id null)
			}
		}
	}
}

func (c *client) note(msg map[string]any) {
	c.mu.Lock()
	c.notes = append(c.notes, msg)
	c.mu.Unlock()
	select {
	case c.noteCh <- msg:
	default:
	}
}

func (c *client) writeRaw(s string) {
	if _, err := io.WriteString(c.in, s); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) write(msg any) {
	b, _ := json.Marshal(msg)
	c.writeRaw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(b), b))
}

// send sends a request and returns the channel its answer comes on.
func (c *client) send(method string, params any) (int, chan map[string]any) {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan map[string]any, 1)
	c.waiting[fmt.Sprint(id)] = ch
	c.mu.Unlock()
	c.write(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	return id, ch
}

// call sends a request and waits for its answer.
func (c *client) call(method string, params any) map[string]any {
	c.t.Helper()
	_, ch := c.send(method, params)
	return c.wait(ch, method)
}

func (c *client) wait(ch chan map[string]any, what string) map[string]any {
	c.t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(180 * time.Second):
		c.t.Fatalf("no answer to %s", what)
		return nil
	}
}

func (c *client) notify(method string, params any) {
	c.write(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// waitNote waits for a message from the server with this method.
func (c *client) waitNote(method string, cond func(map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.After(180 * time.Second)
	for {
		c.mu.Lock()
		for _, n := range c.notes {
			if n["method"] == method && (cond == nil || cond(n)) {
				c.mu.Unlock()
				return n
			}
		}
		c.mu.Unlock()
		select {
		case <-c.noteCh:
		case <-deadline:
			c.t.Fatalf("no %s from the server", method)
			return nil
		}
	}
}

func (c *client) initialize(opts map[string]any) map[string]any {
	c.t.Helper()
	res := c.call("initialize", map[string]any{
		"processId": nil, "rootUri": nil,
		"capabilities": map[string]any{
			"window": map[string]any{"workDoneProgress": true, "showDocument": map[string]any{"support": true}},
		},
		"initializationOptions": opts,
	})
	if res["error"] != nil {
		c.t.Fatalf("initialize: %v", res["error"])
	}
	c.notify("initialized", map[string]any{})
	return res
}

func errorCode(m map[string]any) int {
	e, ok := m["error"].(map[string]any)
	if !ok {
		return 0
	}
	f, _ := e["code"].(float64)
	return int(f)
}

// humanEval0 is a file holding HumanEval/0's prompt, as a user would have
// it open.
const humanEval0 = `from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    """ Check if in given list of numbers, are any two numbers closer to each other than
    given threshold.
    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)
    False
    >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)
    True
    """
    pass


def other():
    return 1
`

func (c *client) open(uri, text string) {
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": uri, "languageId": "python", "version": 1, "text": text}})
}
