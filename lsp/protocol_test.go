package lsp

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/toppass/toppass/daemon"
)

// The protocol over stdio: lifecycle, malformed input, unknown methods —
// the server answers correctly and never dies.
func TestLifecycle(t *testing.T) {
	c := startServer(t, nil)
	if got := c.call("textDocument/hover", map[string]any{}); errorCode(got) != serverNotInitialized {
		t.Fatalf("before initialize: %v", got)
	}
	res := c.initialize(nil)
	caps := res["result"].(map[string]any)["capabilities"].(map[string]any)
	if caps["codeActionProvider"] == nil || caps["executeCommandProvider"] == nil {
		t.Fatalf("capabilities: %v", caps)
	}
	if got := c.call("initialize", map[string]any{}); errorCode(got) != -32600 {
		t.Fatalf("second initialize: %v", got)
	}
	if got := c.call("shutdown", nil); got["error"] != nil {
		t.Fatalf("shutdown: %v", got)
	}
	if got := c.call("textDocument/hover", map[string]any{}); errorCode(got) != -32600 {
		t.Fatalf("after shutdown: %v", got)
	}
	c.notify("exit", nil)
	if code := <-c.done; code != 0 {
		t.Fatalf("exit after shutdown: code %d", code)
	}
	c.done <- 0 // for the cleanup

	c = startServer(t, nil)
	c.initialize(nil)
	c.notify("exit", nil)
	if code := <-c.done; code != 1 {
		t.Fatalf("exit without shutdown: code %d", code)
	}
	c.done <- 1
}

func TestMalformedInput(t *testing.T) {
	c := startServer(t, nil)
	c.initialize(nil)
	bad := []string{
		"Content-Length: 5\r\n\r\n{oops",                // bad JSON
		"Content-Length: 2\r\n\r\n[]",                   // not a message
		"garbage header\r\nContent-Length: 2\r\n\r\n{}", // a header line without a colon
		"Content-Length: lots\r\n\r\n",                  // a bad length
		"Content-Type: x\r\n\r\n",                       // no length
		frame(`{"jsonrpc":"2.0","id":77,"method":1}`),   // method is not a string
	}
	for _, b := range bad {
		c.writeRaw(b)
	}
	// Each got an error answer (id null, or its own id) and the server is
	// still there.
	if got := c.call("toppass/noSuchMethod", nil); errorCode(got) != -32601 {
		t.Fatalf("unknown method: %v", got)
	}
	c.notify("toppass/noSuchNotification", map[string]any{})
	c.notify("textDocument/didChange", "not an object")
	c.open("file:///a.py", humanEval0)
	if got := c.call("textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": "file:///a.py"}, "range": "x"}); errorCode(got) != -32602 {
		t.Fatalf("bad params: %v", got)
	}
	c.mu.Lock()
	parseErrors := 0
	for _, n := range c.notes {
		if n["method"] == nil && errorCode(n) == -32700 {
			parseErrors++
		}
	}
	c.mu.Unlock()
	if parseErrors < 4 {
		t.Errorf("%d parse errors answered, want at least 4", parseErrors)
	}
	if got := c.call("shutdown", nil); got["error"] != nil {
		t.Fatalf("shutdown after bad input: %v", got)
	}
}

// Code actions need candidates; without them the server offers the
// command that generates them, and nothing outside a function.
func TestCodeActionsWithoutCandidates(t *testing.T) {
	c := startServer(t, nil)
	c.initialize(nil)
	c.open("file:///a.py", humanEval0)
	acts := codeActions(t, c, "file:///a.py", 11)
	if len(acts) != 1 || !strings.Contains(acts[0]["title"].(string), "generate candidates for has_close_elements()") {
		t.Fatalf("actions: %v", acts)
	}
	if acts := codeActions(t, c, "file:///a.py", 0); len(acts) != 0 {
		t.Fatalf("outside a function: %v", acts)
	}
	// context.only filters by kind (and sub-kind).
	for kind, want := range map[string]int{"quickfix": 0, "source": 1, "refactor": 0} {
		got := c.call("textDocument/codeAction", map[string]any{
			"textDocument": map[string]any{"uri": "file:///a.py"},
			"range":        map[string]any{"start": map[string]any{"line": 11, "character": 4}, "end": map[string]any{"line": 11, "character": 4}},
			"context":      map[string]any{"diagnostics": []any{}, "only": []string{kind}},
		})
		if n := len(got["result"].([]any)); n != want {
			t.Errorf("only %s: %d actions, want %d", kind, n, want)
		}
	}
	// A selection that starts above the function offers it.
	got := c.call("textDocument/codeAction", map[string]any{
		"textDocument": map[string]any{"uri": "file:///a.py"},
		"range":        map[string]any{"start": map[string]any{"line": 1, "character": 0}, "end": map[string]any{"line": 6, "character": 0}},
		"context":      map[string]any{"diagnostics": []any{}},
	})
	if n := len(got["result"].([]any)); n != 1 {
		t.Errorf("a selection around the function: %v", got)
	}
	if acts := codeActions(t, c, "file:///unknown.py", 3); len(acts) != 0 {
		t.Fatalf("unknown document: %v", acts)
	}
}

func frame(body string) string {
	return "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

func codeActions(t *testing.T, c *client, uri string, line int) []map[string]any {
	t.Helper()
	got := c.call("textDocument/codeAction", map[string]any{
		"textDocument": map[string]any{"uri": uri},
		"range":        map[string]any{"start": map[string]any{"line": line, "character": 4}, "end": map[string]any{"line": line, "character": 4}},
		"context":      map[string]any{"diagnostics": []any{}},
	})
	if got["error"] != nil {
		t.Fatalf("codeAction: %v", got["error"])
	}
	var out []map[string]any
	if list, ok := got["result"].([]any); ok {
		for _, a := range list {
			out = append(out, a.(map[string]any))
		}
	}
	return out
}

func generate(c *client, uri string, line int) (int, chan map[string]any) {
	return c.send("workspace/executeCommand", map[string]any{"command": cmdGenerate,
		"arguments": []any{map[string]any{"uri": uri, "line": line}}})
}

// The whole path with the real daemon: generate, rank, offer, apply;
// cancellation, requests out of order, a document changed while a request
// is in flight, and a daemon killed mid-request.
func TestWithDaemon(t *testing.T) {
	w := newWorld(t)
	c := startServer(t, w)
	c.initialize(map[string]any{"topK": 2, "generate": 4})
	uri := "file:///work/he0.py"
	c.open(uri, humanEval0)

	// Generation runs while other requests are answered (out of order).
	w.mu.Lock()
	w.hold = make(chan struct{})
	w.mu.Unlock()
	_, genCh := generate(c, uri, 3)
	w.waitArrived()
	c.waitNote("$/progress", func(m map[string]any) bool {
		return m["params"].(map[string]any)["value"].(map[string]any)["kind"] == "begin"
	})
	// The document changes while the request is in flight: a line is
	// added above the function.
	c.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": uri, "version": 2},
		"contentChanges": []any{map[string]any{"range": map[string]any{"start": map[string]any{"line": 1, "character": 0},
			"end": map[string]any{"line": 1, "character": 0}}, "text": "# a comment\n"}}})
	if acts := codeActions(t, c, uri, 4); len(acts) != 1 {
		t.Fatalf("while generating: %v", acts)
	}
	select {
	case m := <-genCh:
		t.Fatalf("generation answered while the generator waits: %v", m)
	default:
	}
	w.mu.Lock()
	close(w.hold)
	w.hold = nil
	w.mu.Unlock()
	if got := c.wait(genCh, "generate"); got["error"] != nil {
		t.Fatalf("generate: %v", got["error"])
	}
	c.waitNote("window/showMessage", func(m map[string]any) bool {
		return strings.Contains(m["params"].(map[string]any)["message"].(string), "4 candidates")
	})

	// The function moved one line down: its actions are there.
	acts := codeActions(t, c, uri, 5)
	if len(acts) != 4 {
		t.Fatalf("want 2 candidates + show + generate, got %v", acts)
	}
	title := acts[0]["title"].(string)
	if !strings.HasPrefix(title, "toppass: use candidate #1 — P(pass) ") || !strings.Contains(title, "passes 2/2 examples") {
		t.Fatalf("title %q", title)
	}
	edit := acts[0]["edit"].(map[string]any)["changes"].(map[string]any)[uri].([]any)[0].(map[string]any)
	if edit["newText"] != goodBody {
		t.Fatalf("candidate #1 is not the correct one: %v", edit)
	}
	start := edit["range"].(map[string]any)["start"].(map[string]any)
	if start["line"].(float64) != 12 {
		t.Fatalf("the edit replaces from line %v, want the body's (12)", start["line"])
	}

	// Hover on the def line shows the evidence.
	hv := c.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": uri},
		"position": map[string]any{"line": 4, "character": 6}})
	if !strings.Contains(hv["result"].(map[string]any)["contents"].(map[string]any)["value"].(string), "| 1 |") {
		t.Fatalf("hover: %v", hv)
	}

	// All candidates side by side, in a document the client is asked to
	// show.
	show := c.call("workspace/executeCommand", map[string]any{"command": cmdShow, "arguments": []any{map[string]any{"uri": uri, "line": 4}}})
	if show["error"] != nil {
		t.Fatalf("show: %v", show)
	}
	c.waitNote("window/showDocument", nil)

	// Cancellation: a held generation is cancelled and answered as such.
	w.mu.Lock()
	w.hold = make(chan struct{})
	w.mu.Unlock()
	id, ch := generate(c, uri, 4)
	w.waitArrived()
	c.notify("$/cancelRequest", map[string]any{"id": id})
	if got := c.wait(ch, "cancelled generate"); errorCode(got) != requestCancelled {
		t.Fatalf("cancelled: %v", got)
	}
	// The daemon still works on it (its generator call is held): let it
	// finish, so that the next request is not queued behind it.
	w.mu.Lock()
	close(w.hold)
	w.hold = make(chan struct{})
	w.mu.Unlock()

	// The daemon is killed in the middle of a request: the request fails
	// with an error, the user is told, and the next request starts a new
	// daemon.
	_, ch = generate(c, uri, 4)
	w.waitArrived()
	pid := w.daemonPID()
	syscall.Kill(pid, syscall.SIGKILL)
	if got := c.wait(ch, "generate with the daemon killed"); got["error"] == nil {
		t.Fatalf("want an error when the daemon dies: %v", got)
	}
	c.waitNote("window/showMessage", func(m map[string]any) bool {
		return strings.Contains(m["params"].(map[string]any)["message"].(string), "daemon")
	})
	w.mu.Lock()
	close(w.hold)
	w.hold = nil
	w.mu.Unlock()
	if err := daemon.WaitStopped(context.Background(), w.paths, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.wait(func() chan map[string]any { _, ch := generate(c, uri, 4); return ch }(), "generate after the kill"); got["error"] != nil {
		t.Fatalf("after the daemon was killed: %v", got)
	}
	if w.daemonPID() == pid {
		t.Fatal("the same daemon?")
	}
}

// Diagnostics for the code as written: a function whose docstring
// examples fail in the sandbox gets a warning on its def line; fixing it
// clears it.
func TestDiagnostics(t *testing.T) {
	w := newWorld(t)
	c := startServer(t, w)
	c.initialize(nil)
	uri := "file:///work/wrong.py"
	wrong := strings.Replace(humanEval0, "    pass\n", badBody, 1)
	c.open(uri, wrong)
	d := c.waitNote("textDocument/publishDiagnostics", func(m map[string]any) bool {
		return m["params"].(map[string]any)["uri"] == uri
	})
	diags := d["params"].(map[string]any)["diagnostics"].([]any)
	found := false
	for _, x := range diags {
		m := x.(map[string]any)
		if strings.Contains(m["message"].(string), "1 of 2 docstring examples fail") &&
			m["range"].(map[string]any)["start"].(map[string]any)["line"].(float64) == 3 {
			found = true
		}
	}
	if !found {
		t.Fatalf("diagnostics: %v", diags)
	}
	c.mu.Lock()
	c.notes = nil
	c.mu.Unlock()
	c.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": uri, "version": 2},
		"contentChanges": []any{map[string]any{"text": strings.Replace(humanEval0, "    pass\n", goodBody, 1)}}})
	d = c.waitNote("textDocument/publishDiagnostics", func(m map[string]any) bool {
		return m["params"].(map[string]any)["version"].(float64) == 2
	})
	for _, x := range d["params"].(map[string]any)["diagnostics"].([]any) {
		if strings.Contains(x.(map[string]any)["message"].(string), "examples fail") {
			t.Fatalf("after the fix: %v", x)
		}
	}
}
