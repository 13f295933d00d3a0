package execrank

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/sandbox"
)

// ProbeCache keeps probe results per candidate in a JSONL file, keyed by a
// hash of everything a probe depends on (program, tests, calls, setup,
// time budget; v2: budgets in fuel): a candidate is probed once across runs, and a problem that
// gains candidates only probes the new ones — the dual agreement and the
// clusters, which are set-level, are recomputed from the cached results.
type ProbeCache struct {
	mu   sync.Mutex
	m    map[string]*ProbeResult
	f    *os.File
	enc  *json.Encoder
	hits int
}

type cacheLine struct {
	Key  string   `json:"key"`
	Held []bool   `json:"held"`
	Sigs []string `json:"sigs"`
}

// OpenProbeCache loads path (a torn last line is ignored) and appends new
// results to it.
func OpenProbeCache(path string) (*ProbeCache, error) {
	c := &ProbeCache{m: map[string]*ProbeResult{}}
	if b, err := os.ReadFile(path); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			var l cacheLine
			if json.Unmarshal(line, &l) == nil && l.Key != "" {
				c.m[l.Key] = &ProbeResult{Held: l.Held, Sigs: l.Sigs}
			}
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	c.f, c.enc = f, json.NewEncoder(f)
	return c, nil
}

// Close closes the file.
func (c *ProbeCache) Close() error { return c.f.Close() }

// Hits is how many probes the cache answered.
func (c *ProbeCache) Hits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

func probeKey(p *dataset.Problem, cand *dataset.Candidate, tests, calls []string, timeout time.Duration) string {
	src, line := cand.Source(p)
	h := sha256.New()
	// The sandbox's version keys the result: a probe made by an older
	// harness (one interpreter, forgeable verdicts) is not reused.
	for _, s := range []string{"probe-v3", sandbox.Version(), src, p.EntryPoint, p.TestSetupCode, strings.Join(tests, "\x00"), strings.Join(calls, "\x00"), timeout.String()} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write([]byte{byte(line), byte(line >> 8)})
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Get returns the cached result of key.
func (c *ProbeCache) Get(key string) (*ProbeResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.m[key]
	if r != nil {
		c.hits++
	}
	return r, r != nil
}

// Put keeps a result.
func (c *ProbeCache) Put(key string, r *ProbeResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = r
	return c.enc.Encode(cacheLine{key, r.Held, r.Sigs})
}
