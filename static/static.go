// Package static compiles candidates in the sandbox without running them
// and reports what the compiler can tell: a syntax error, or global names
// read but never bound (a NameError waiting to happen). These are features
// of the neural ranker: they read the code, like the model, and execute
// nothing of it.
package static

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"sync"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/workpool"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/sandbox"
)

// Analyser runs static analyses in one sandbox.
type Analyser struct {
	SB      *sandbox.Sandbox
	Workers int

	mu    sync.Mutex
	cache map[string]ranker.Static
	file  *os.File
	enc   *json.Encoder
}

// cacheVersion changes when the analysis does, so old entries are ignored.
const cacheVersion = "static-v1"

type cacheLine struct {
	Key string `json:"key"`
	ranker.Static
}

func cacheKey(src string) string {
	h := sha256.Sum256([]byte(cacheVersion + "\x00" + src))
	return hex.EncodeToString(h[:16])
}

// UseCache keeps results in a JSONL file (keyed by a hash of the source),
// loading what it already holds: a candidate is analysed once, across runs
// and processes. A torn last line is ignored.
func (a *Analyser) UseCache(path string) error {
	a.cache = map[string]ranker.Static{}
	if b, err := os.ReadFile(path); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			var l cacheLine
			if json.Unmarshal(line, &l) == nil && l.Key != "" {
				a.cache[l.Key] = l.Static
			}
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	a.file, a.enc = f, json.NewEncoder(f)
	return nil
}

// New starts a sandbox for static analysis.
func New(ctx context.Context, workers int) (*Analyser, error) {
	sb, err := sandbox.New(ctx, sandbox.Config{})
	if err != nil {
		return nil, err
	}
	return &Analyser{SB: sb, Workers: workers}, nil
}

// Close stops the sandbox and closes the cache.
func (a *Analyser) Close(ctx context.Context) error {
	if a.file != nil {
		a.file.Close()
	}
	return a.SB.Close(ctx)
}

// One analyses one candidate of p (code as the candidate gives it).
func (a *Analyser) One(ctx context.Context, p *dataset.Problem, c *dataset.Candidate) (ranker.Static, error) {
	src, line := c.Source(p)
	var key string
	if a.cache != nil {
		key = cacheKey(src)
		a.mu.Lock()
		s, ok := a.cache[key]
		a.mu.Unlock()
		if ok {
			return s, nil
		}
	}
	res, err := a.SB.Run(ctx, &sandbox.Request{Mode: sandbox.ModeStatic, Source: src, CandLine: line})
	if err != nil {
		return ranker.Static{}, err
	}
	s := ranker.Static{
		SyntaxError: res.ExecError == "SyntaxError",
		Undefined:   len(res.Undefined),
		// A run that did not finish (a pathological source that makes the
		// compiler exceed the limits) is treated like a syntax error.
		Failed: res.Stop != sandbox.StopOK && res.ExecError != "SyntaxError",
	}
	if a.cache != nil {
		a.mu.Lock()
		a.cache[key] = s
		err = a.enc.Encode(cacheLine{key, s})
		a.mu.Unlock()
	}
	return s, err
}

// All analyses every candidate of p.
func (a *Analyser) All(ctx context.Context, p *dataset.Problem, cands []*dataset.Candidate) ([]ranker.Static, error) {
	out := make([]ranker.Static, len(cands))
	err := workpool.Each(ctx, len(cands), a.Workers, func(i int) error {
		s, err := a.One(ctx, p, cands[i])
		out[i] = s
		return err
	})
	return out, err
}
