package lsp

import (
	"sync"

	"github.com/toppass/toppass/daemon"
	"github.com/toppass/toppass/dataset"
)

// candidates keeps, per problem (task id), the candidates generated in
// this session and the last ranking of them. The daemon caches rankings
// by content, so asking again is cheap.
type candidates struct {
	mu sync.Mutex
	m  map[string]*problemCands
}

type problemCands struct {
	problem *dataset.Problem
	cands   []*dataset.Candidate
	ranked  *daemon.RankResult
}

func newCandidates() *candidates { return &candidates{m: map[string]*problemCands{}} }

func (c *candidates) get(task string) (*problemCands, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pc, ok := c.m[task]
	if !ok {
		return nil, false
	}
	cp := *pc
	return &cp, true
}

// add appends generated candidates (renumbered after those kept).
func (c *candidates) add(p *dataset.Problem, res *daemon.RankResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pc := c.m[p.TaskID]
	if pc == nil {
		pc = &problemCands{problem: p}
		c.m[p.TaskID] = pc
	}
	first := len(pc.cands) == 0
	ranked := &daemon.RankResult{Method: res.Method, Model: res.Model}
	for _, r := range res.Ranked {
		code := r.Code
		i := len(pc.cands)
		cand := &dataset.Candidate{TaskID: p.TaskID, Index: &i, Completion: &code}
		if dataset.DefinesEntry(code, p.EntryPoint) {
			cand.Completion, cand.Solution = nil, &code // a whole program
		}
		pc.cands = append(pc.cands, cand)
		r.Index = i
		ranked.Ranked = append(ranked.Ranked, r)
	}
	// The first generation's ranking is the ranking of exactly these
	// candidates; after more are added, all are ranked again.
	pc.ranked = nil
	if first {
		pc.ranked = ranked
	}
}

func (c *candidates) setRanked(task string, res *daemon.RankResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pc := c.m[task]; pc != nil {
		pc.ranked = res
	}
}
