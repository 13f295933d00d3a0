package daemon

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/hybrid"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/store"
)

// Ranking methods the API offers.
var rankMethods = []string{"hybrid", "neural", "lexical", "exec"}

// rank ranks a problem's candidates (generating them first when asked
// to). A ranking is cached by content — the method, the model, the problem
// and the set of candidates, the sandbox environment — so asking again
// costs a lookup.
func (d *Daemon) rank(ctx context.Context, p *RankParams) (*RankResult, error) {
	d.ranking.Add(1)
	defer d.ranking.Add(-1)
	if p.Method == "" {
		p.Method = "hybrid"
	}
	if !slices.Contains(rankMethods, p.Method) {
		return nil, badParams("unknown method %q (one of %s)", p.Method, strings.Join(rankMethods, ", "))
	}
	generated := 0
	if len(p.Candidates) == 0 {
		if p.N <= 0 {
			return nil, badParams("no candidates, and n is 0: nothing to rank")
		}
		if p.Problem == nil {
			return nil, badParams("no problem")
		}
		cands, err := d.generate(ctx, p.Problem, p.N, p.Endpoint, p.Model)
		if err != nil {
			return nil, err
		}
		p.Candidates, generated = cands, len(cands)
	}
	if err := checkProblem(p.Problem, p.Candidates); err != nil {
		return nil, err
	}
	model, modelID := d.models.get()
	start := time.Now()
	ranked, cached, err := d.rankCached(ctx, p, model, modelID)
	if err != nil {
		return nil, err
	}
	if !cached {
		d.log.Info("ranked", "task", p.Problem.TaskID, "method", p.Method, "candidates", len(ranked), "ms", time.Since(start).Milliseconds())
	}
	return &RankResult{Method: p.Method, Model: modelID, Cached: cached, Generated: generated, Ranked: ranked}, nil
}

// rankCached ranks p's candidates with a model, from the cache when this
// ranking was made before (by content: the method, the model, the
// problem, the candidates, the tests, the sandbox environment); the
// candidates' positions may differ from the cached ones. Best first.
func (d *Daemon) rankCached(ctx context.Context, p *RankParams, model *ranker.Model, modelID string) ([]Ranked, bool, error) {
	hashes := make([]string, len(p.Candidates))
	for i, c := range p.Candidates {
		hashes[i] = store.CandidateHash(c)
	}
	pm := d.passCalibration() // one P(pass) model for the key and the ranking
	key := store.Hash(append([]string{"rank-v3", p.Method, modelID, pm.id, d.env, strconv.Itoa(d.cfg.SelfInputs), store.ProblemHash(p.Problem),
		strings.Join(p.Tests, "\x00")}, hashes...)...)
	cached, ok := d.recent.get(key)
	if !ok {
		var err error
		if ok, err = d.st.GetCache(ctx, "rank", key, &cached); err != nil {
			return nil, false, err
		}
	}
	if ok && len(cached) == len(p.Candidates) {
		byHash := map[string]Ranked{}
		for _, r := range cached {
			byHash[store.Hash(r.Code)] = r
		}
		var out []Ranked
		for _, c := range p.Candidates {
			code, _ := c.Code()
			r, ok := byHash[store.Hash(code)]
			if !ok {
				break
			}
			r.Index = *c.Index
			out = append(out, r)
		}
		if len(out) == len(p.Candidates) {
			sortRanked(out)
			d.recent.put(key, cached)
			return out, true, nil
		}
	}
	ranked, err := d.rankFresh(ctx, p, model, pm)
	if err != nil {
		return nil, false, err
	}
	sortRanked(ranked)
	if err := d.st.PutCache(context.Background(), "rank", key, ranked); err != nil {
		return nil, false, err
	}
	d.recent.put(key, slices.Clone(ranked))
	return ranked, false, nil
}

func sortRanked(r []Ranked) {
	sort.SliceStable(r, func(i, j int) bool { return r[i].Score > r[j].Score })
	for i := range r {
		r[i].Rank = i + 1
	}
}

func (d *Daemon) rankFresh(ctx context.Context, p *RankParams, model *ranker.Model, pm *passModel) ([]Ranked, error) {
	cands := p.Candidates
	out := make([]Ranked, len(cands))
	for i, c := range cands {
		out[i].Index = *c.Index
		out[i].Code, _ = c.Code()
	}
	if p.Method == "lexical" {
		for i, pr := range ranker.Lexical(model, p.Problem, cands) {
			out[i].Score = pr.Score
		}
		return out, nil
	}
	release, err := d.rankSlot(ctx)
	if err != nil {
		return nil, err
	}
	statics, err := d.an.All(ctx, p.Problem, cands)
	release()
	if err != nil {
		return nil, err
	}
	for i, s := range statics {
		out[i].SyntaxError, out[i].Undefined = s.SyntaxError, s.Undefined
	}
	var lines []execrank.ScoreLine
	if p.Method != "neural" {
		lines, err = execrank.Evidence(ctx, d.sb, p.Problem, cands, execrank.EvidenceConfig{
			Examples: true, Tests: p.Tests, SelfInputs: d.cfg.SelfInputs, Workers: d.cfg.Workers, Budget: time.Duration(d.cfg.Timeout),
			Cache: &probeCache{ctx: ctx, st: d.st, env: d.env}, Acquire: d.rankSlot})
		if err != nil {
			return nil, err
		}
		for i, l := range lines {
			out[i].ExamplesPassed, out[i].Examples, out[i].TestsPassed, out[i].Tests = l.ExamplesPassed, l.Examples, l.Passed, l.Tests
			out[i].Agreement, out[i].Cluster = l.Agreement, l.Cluster
			out[i].Behaviour, out[i].Inputs = l.Behaviour, l.Inputs
			out[i].Score = l.Score
		}
	}
	if p.Method == "exec" {
		return out, nil
	}
	analyse := func(context.Context, *dataset.Problem, []*dataset.Candidate) ([]ranker.Static, error) {
		return statics, nil
	}
	// The model's forward pass holds a CPU slot too.
	if release, err = d.rankSlot(ctx); err != nil {
		return nil, err
	}
	defer release()
	if p.Method == "neural" {
		preds, err := ranker.Score(ctx, model, analyse, p.Problem, cands)
		if err != nil {
			return nil, err
		}
		for i, pr := range preds {
			out[i].Score, out[i].PPass, out[i].Fault, out[i].ErrorLine = pr.Score, pr.PPass, pr.Fault, pr.ErrorLine
		}
		return out, nil
	}
	scores, err := hybrid.Score(ctx, model, analyse, nil, pm.fusion, p.Problem, cands, lines)
	if err != nil {
		return nil, err
	}
	for i, s := range scores {
		out[i].Score, out[i].PPass, out[i].Fault, out[i].ErrorLine = s.Score, s.PPass, s.Fault, s.ErrorLine
		out[i].Features = s.Features
	}
	return out, nil
}

// rankSlot takes a CPU slot for one probe of a ranking: at a client's
// priority, or at labelling's for the dashboard's evaluations (see
// withPriority).
func (d *Daemon) rankSlot(ctx context.Context) (func(), error) {
	prio, ok := ctx.Value(prioKey{}).(int)
	if !ok {
		prio = prioRank
	}
	return d.cpu.acquire(ctx, prio)
}

type prioKey struct{}

// withPriority makes the rankings done under ctx take CPU slots at prio.
func withPriority(ctx context.Context, prio int) context.Context {
	return context.WithValue(ctx, prioKey{}, prio)
}

// probeCache keeps probe results in the store.
type probeCache struct {
	ctx context.Context
	st  *store.Store
	env string
}

type probeEntry struct {
	Held []bool   `json:"held"`
	Sigs []string `json:"sigs"`
}

func (c *probeCache) Get(key string) (*execrank.ProbeResult, bool) {
	var e probeEntry
	ok, err := c.st.GetCache(c.ctx, "probe", c.env+key, &e)
	if err != nil || !ok {
		return nil, false
	}
	return &execrank.ProbeResult{Held: e.Held, Sigs: e.Sigs}, true
}

func (c *probeCache) Put(key string, r *execrank.ProbeResult) error {
	return c.st.PutCache(context.Background(), "probe", c.env+key, probeEntry{r.Held, r.Sigs})
}
