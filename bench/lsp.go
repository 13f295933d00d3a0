package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/toppass/toppass/daemon"
	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/progress"
	"github.com/toppass/toppass/lsp"
	"github.com/toppass/toppass/ranker"
)

// LSPConfig is a language-server benchmark: `toppass lsp` (a process of
// its own, speaking LSP on stdio) over a daemon it starts, with a loopback
// OpenAI-compatible server that answers each HumanEval prompt with that
// problem's first N released samples.
type LSPConfig struct {
	Problems   string
	Candidates string
	Labels     string // labels of the candidates (which pass)
	Exe        string // the toppass binary
	Limit      int    // problems (0: all)
	N          int    // candidates generated per problem (default 10)
	Actions    int    // code-action requests per problem, with candidates cached (default 20)
	Method     string
	Progress   io.Writer
}

// LSP runs the benchmark.
func LSP(ctx context.Context, cfg LSPConfig, w io.Writer) error {
	if cfg.N <= 0 {
		cfg.N = 10
	}
	if cfg.Actions <= 0 {
		cfg.Actions = 20
	}
	if cfg.Method == "" {
		cfg.Method = "hybrid"
	}
	var bad dataset.ErrorLog
	probs, order, byTask, err := ranker.ProblemCandidates(cfg.Problems, cfg.Candidates, &bad)
	if err != nil {
		return err
	}
	labels, _, err := dataset.ReadLabels(cfg.Labels, bad.Add)
	if err != nil {
		return err
	}
	if cfg.Limit > 0 && cfg.Limit < len(order) {
		order = order[:cfg.Limit]
	}
	// The generator: a prompt gets its problem's first N samples.
	byPrompt, byDef := map[string][]string{}, map[string][]string{}
	for _, id := range order {
		var texts []string
		for _, c := range byTask[id][:min(cfg.N, len(byTask[id]))] {
			code, _ := c.Code()
			texts = append(texts, code)
		}
		byPrompt[probs[id].Prompt] = texts
		byDef[lastDef(probs[id].Prompt)] = texts
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body struct {
			Prompt string `json:"prompt"`
			N      int    `json:"n"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		// The server sends the file up to the docstring: the problem's
		// prompt, unless the prompt has code between the signature and
		// the docstring (then its def line says which).
		texts, ok := byPrompt[body.Prompt]
		if !ok {
			texts, ok = byDef[lastDef(body.Prompt)]
		}
		if !ok {
			http.Error(rw, "unknown prompt", http.StatusNotFound)
			return
		}
		var choices []map[string]any
		for i, t := range texts[:min(len(texts), max(body.N, 1))] {
			choices = append(choices, map[string]any{"index": i, "text": t})
		}
		json.NewEncoder(rw).Encode(map[string]any{"choices": choices})
	})}
	go srv.Serve(ln)
	defer srv.Close()

	dir, err := os.MkdirTemp("", "toppass-bench-lsp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	paths, env, err := daemon.IsolatedPaths(dir)
	if err != nil {
		return err
	}
	conf := fmt.Sprintf("[generator]\nbase_url = %q\nretries = 0\n[finetune]\nenabled = false\n", "http://"+ln.Addr().String()+"/v1")
	if err := os.WriteFile(paths.ConfigFile(), []byte(conf), 0o600); err != nil {
		return err
	}
	defer func() {
		stop := exec.Command(cfg.Exe, "stop")
		stop.Env = append(os.Environ(), env...)
		stop.Run()
	}()
	// The daemon is up before the clock starts (the server would start it
	// at its first request).
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	dc, err := daemon.Ensure(ctx, paths, cfg.Exe, time.Minute)
	if err != nil {
		return err
	}
	defer dc.Close()
	cl, err := startLSP(ctx, cfg.Exe, append(os.Environ(), env...), filepath.Join(dir, "lsp.log"))
	if err != nil {
		return err
	}
	defer cl.close()
	if _, err := cl.call(ctx, "initialize", map[string]any{"processId": os.Getpid(), "rootUri": nil,
		"capabilities": map[string]any{}, "initializationOptions": map[string]any{"topK": 3, "generate": cfg.N, "method": cfg.Method}}); err != nil {
		return err
	}
	cl.notify("initialized", map[string]any{})

	var actionLat, genLat, daemonCached, daemonFresh []time.Duration
	var lspPass, offPass, problemsWithPass int
	var differ []string // problems where candidate #1 passes one way and not the other
	var randomSum float64
	bar := progress.New(cfg.Progress, "bench lsp", int64(len(order)), nil)
	for _, id := range order {
		p := probs[id]
		uri := "file://" + filepath.Join(dir, strings.ReplaceAll(id, "/", "_")+".py")
		text := p.Prompt + "    pass\n"
		line := defLineOf(text, p.EntryPoint)
		cl.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "python", "version": 1, "text": text}})
		args := map[string]any{"uri": uri, "line": line}
		t0 := time.Now()
		if _, err := cl.call(ctx, "workspace/executeCommand", map[string]any{"command": "toppass.generate", "arguments": []any{args}}); err != nil {
			return fmt.Errorf("%s: generate: %w", id, err)
		}
		genLat = append(genLat, time.Since(t0))
		var first string
		for k := range cfg.Actions {
			t0 := time.Now()
			raw, err := cl.call(ctx, "textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": uri},
				"range":   map[string]any{"start": map[string]any{"line": line + 1, "character": 4}, "end": map[string]any{"line": line + 1, "character": 4}},
				"context": map[string]any{"diagnostics": []any{}}})
			if err != nil {
				return fmt.Errorf("%s: codeAction: %w", id, err)
			}
			actionLat = append(actionLat, time.Since(t0))
			if k == 0 {
				var acts []struct {
					Edit struct {
						Changes map[string][]struct {
							NewText string `json:"newText"`
						} `json:"changes"`
					} `json:"edit"`
				}
				json.Unmarshal(raw, &acts)
				if len(acts) > 0 && len(acts[0].Edit.Changes[uri]) > 0 {
					first = acts[0].Edit.Changes[uri][0].NewText
				}
			}
		}
		cl.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
		cands := byTask[id][:min(cfg.N, len(byTask[id]))]
		passes := func(code string) bool {
			for _, c := range cands {
				if cc, _ := c.Code(); strings.TrimRight(cc, "\n") == strings.TrimRight(code, "\n") {
					l := labels[c.Key()]
					return l != nil && l.Passed
				}
			}
			return false
		}
		n := 0
		for _, c := range cands {
			if l := labels[c.Key()]; l != nil && l.Passed {
				n++
			}
		}
		randomSum += float64(n) / float64(max(1, len(cands)))
		if n > 0 {
			problemsWithPass++
		}
		if passes(first) {
			lspPass++
		}
		// The same ranking method offline: the daemon's rank on the
		// dataset's problem and the same candidates (its execution
		// evidence is cached by content by now), then cached.
		var res daemon.RankResult
		t0 = time.Now()
		if err := dc.Call(ctx, daemon.MethodRank, daemon.RankParams{Problem: p, Candidates: cands, Method: cfg.Method}, &res); err != nil {
			return err
		}
		daemonFresh = append(daemonFresh, time.Since(t0))
		for range 5 {
			t0 := time.Now()
			if err := dc.Call(ctx, daemon.MethodRank, daemon.RankParams{Problem: p, Candidates: cands, Method: cfg.Method}, &res); err != nil {
				return err
			}
			daemonCached = append(daemonCached, time.Since(t0))
		}
		offOK := len(res.Ranked) > 0 && passes(res.Ranked[0].Code)
		if offOK {
			offPass++
		}
		if offOK != passes(first) {
			differ = append(differ, id)
		}
		bar.Add(1)
	}
	bar.Done()
	cl.call(ctx, "shutdown", nil)
	cl.notify("exit", nil)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "language server benchmark: %d HumanEval problems, %d generated candidates each (CodeGen-16B samples served on loopback), method %s\n\n", len(order), cfg.N, cfg.Method)
	fmt.Fprintln(tw, "\tp50\tp95\tmax\ttarget\t")
	row := func(name string, d []time.Duration, target string) {
		if len(d) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t%s\t\n", name, target)
			return
		}
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v\t%s\t\n", name, pct(d, 50), pct(d, 95), pct(d, 100), target)
	}
	row(fmt.Sprintf("code action, cached (%d)", len(actionLat)), actionLat, "< 50ms")
	row(fmt.Sprintf("daemon rank, cached (%d)", len(daemonCached)), daemonCached, "")
	row(fmt.Sprintf("generate + rank %d (%d)", cfg.N, len(genLat)), genLat, "< 2s")
	row(fmt.Sprintf("daemon rank %d, new request (%d)", cfg.N, len(daemonFresh)), daemonFresh, "")
	tw.Flush()
	np := float64(len(order))
	fmt.Fprintf(w, "\ncandidate #1 passes HumanEval's tests: code action %d/%d (%.2f%%), the daemon's rank offline on the same candidates %d/%d (%.2f%%)\n",
		lspPass, len(order), 100*float64(lspPass)/np, offPass, len(order), 100*float64(offPass)/np)
	if len(differ) > 0 {
		fmt.Fprintf(w, "candidate #1 passes one way only on: %s\n", strings.Join(differ, ", "))
	}
	fmt.Fprintf(w, "random pick %.2f%%, oracle %.2f%% (problems with a passing candidate among the %d)\n", 100*randomSum/np, 100*float64(problemsWithPass)/np, cfg.N)
	return nil
}

func lastDef(prompt string) string {
	last := ""
	for _, l := range strings.Split(prompt, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "def ") {
			last = strings.TrimSpace(l)
		}
	}
	return last
}

func defLineOf(text, entry string) int {
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "def "+entry+"(") {
			return i
		}
	}
	return 0
}

// lspClient speaks LSP to a `toppass lsp` process.
type lspClient struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	wmu  sync.Mutex
	mu   sync.Mutex
	next int
	wait map[string]chan json.RawMessage
	errs map[string]string
}

func startLSP(ctx context.Context, exe string, env []string, logFile string) (*lspClient, error) {
	cmd := exec.CommandContext(ctx, exe, "lsp", "--log-file", logFile)
	cmd.Env = env
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &lspClient{cmd: cmd, in: in, wait: map[string]chan json.RawMessage{}, errs: map[string]string{}}
	go c.read(bufio.NewReader(out))
	return c, nil
}

func (c *lspClient) read(r *bufio.Reader) {
	for {
		body, err := lsp.ReadFrame(r)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return
		}
		if err != nil {
			continue // a malformed frame: the next one
		}
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &msg) != nil {
			continue
		}
		switch {
		case msg.Method != "" && len(msg.ID) > 0: // a request of the server
			c.write(map[string]any{"jsonrpc": "2.0", "id": msg.ID, "result": nil})
		case msg.Method == "" && len(msg.ID) > 0:
			c.mu.Lock()
			ch := c.wait[string(msg.ID)]
			delete(c.wait, string(msg.ID))
			if msg.Error != nil {
				c.errs[string(msg.ID)] = msg.Error.Message
			}
			c.mu.Unlock()
			if ch != nil {
				ch <- msg.Result
			}
		}
	}
}

func (c *lspClient) write(msg any) error {
	b, _ := json.Marshal(msg)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return lsp.WriteFrame(c.in, b)
}

func (c *lspClient) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	c.next++
	id := strconv.Itoa(c.next)
	ch := make(chan json.RawMessage, 1)
	c.wait[id] = ch
	c.mu.Unlock()
	if err := c.write(map[string]any{"jsonrpc": "2.0", "id": c.next, "method": method, "params": params}); err != nil {
		return nil, err
	}
	select {
	case res := <-ch:
		c.mu.Lock()
		e, failed := c.errs[id]
		c.mu.Unlock()
		if failed {
			return nil, errors.New(e)
		}
		return res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(10 * time.Minute):
		return nil, fmt.Errorf("%s: no answer", method)
	}
}

func (c *lspClient) notify(method string, params any) {
	c.write(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

func (c *lspClient) close() {
	c.in.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		slog.Warn("bench lsp: the server did not exit; killed")
	}
}
