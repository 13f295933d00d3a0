// Package generalize measures how rankers do on problems and generators
// they never saw: the question a user's own problems and a current model's
// candidates ask.
//
// Each labelled set is split by the generator that wrote its candidates
// (the candidates' "model" field; a set without one is one generator),
// and on every part it reports, as ranked pass@1 and as the share of the
// gap between random and the oracle that it closes:
//
//   - random (the unbiased estimator) and the oracle;
//   - two baselines that learn nothing: lexical consensus (mean bigram
//     Jaccard to the siblings over word, number and punctuation tokens)
//     and, with the prompt's examples, examples passed with ties broken by
//     consensus;
//   - execution evidence without a model: CodeT agreement with generated
//     tests, behaviour agreement on toppass's own inputs;
//   - toppass's methods: lexical, neural (a model that must not have
//     trained on these problems or generators: the caller says how it was
//     trained), and hybrid (examples, behaviour, agreement, neural and
//     consensus by hybrid's rule).
//
// A set with several generators is also ranked whole (AllGenerators).
//
// Nothing here trains the ranker: the learned parts come in trained
// elsewhere, and what this package fits (the weight of the neural residual
// over consensus, the P(pass) calibrations) is fit on the other
// generators' candidates of the other half of the problems: problem- and
// generator-disjoint. A set's variants (the same candidates with other
// evidence: with or without the examples, with generated tests) are one
// generator.
package generalize

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/hybrid"
	"github.com/toppass/toppass/internal/progress"
	"github.com/toppass/toppass/metrics"
	"github.com/toppass/toppass/ranker"
	"github.com/toppass/toppass/sandbox"
)

// Spec names a labelled set.
type Spec struct {
	Name       string
	Problems   string
	Candidates string
	Labels     string
	// Examples, when set, is a problems file whose prompts state the
	// examples (HumanEval's original prompts); else Problems'.
	Examples string
	// MaxCands keeps the first n candidates of each problem and generator
	// of this set (0: Config.MaxCands).
	MaxCands int
	// Tests, when set, are model-generated tests (execrank's formats):
	// CodeT dual agreement joins the evidence.
	Tests string
	// Style, when set, restates every prompt in another benchmark's shape
	// (StyleOneAssert); problems it cannot restate are left out.
	Style string
}

// ParseSpec reads "name[/max]=problems,candidates,labels[,examples[,tests]]"
// (examples may be empty).
func ParseSpec(s string) (Spec, error) {
	name, rest, ok := strings.Cut(s, "=")
	parts := strings.Split(rest, ",")
	if !ok || name == "" || len(parts) < 3 || len(parts) > 5 {
		return Spec{}, fmt.Errorf("--set %q: want name[/max-candidates][:style]=problems,candidates,labels|reference[,examples-problems[,generated-tests]]", s)
	}
	style := ""
	if n, st, ok := strings.Cut(name, ":"); ok {
		if st != StyleOneAssert || n == "" {
			return Spec{}, fmt.Errorf("--set %q: unknown style %q (want %s)", s, st, StyleOneAssert)
		}
		name, style = n, st
	}
	maxCands := 0
	if n, m, ok := strings.Cut(name, "/"); ok {
		v, err := strconv.Atoi(m)
		if err != nil || v <= 0 || n == "" {
			return Spec{}, fmt.Errorf("--set %q: %q is not a name/number of candidates", s, name)
		}
		name, maxCands = n, v
	}
	sp := Spec{Name: name, Problems: parts[0], Candidates: parts[1], Labels: parts[2], MaxCands: maxCands, Style: style}
	if len(parts) >= 4 {
		sp.Examples = parts[3]
	}
	if len(parts) == 5 {
		sp.Tests = parts[4]
	}
	return sp, nil
}

// Config is one evaluation.
type Config struct {
	Specs []Spec
	Model *ranker.Model // nil: the methods without a model only
	// CrossFit, when set, replaces Model: CrossFit[h] was trained on the
	// problems of half h (dataset.Half) and scores the other half's.
	CrossFit *[2]*ranker.Model
	SB       *sandbox.Sandbox
	Analyse  ranker.Analyse
	Workers  int
	Budget   time.Duration
	// MaxCands keeps the first n candidates of each problem (0: all).
	MaxCands int
	// SelfInputs is how many inputs toppass makes per problem for the
	// behaviour evidence (0: none).
	SelfInputs int
	// Cache keeps probe results between runs (nil: none).
	Cache    execrank.Cache
	Progress io.Writer
	OnError  func(*dataset.LineError) error
}

// modelFor is the model that scores a problem (nil: none).
func (cfg *Config) modelFor(taskID string) *ranker.Model {
	if cfg.CrossFit != nil {
		return cfg.CrossFit[1-dataset.Half(taskID)]
	}
	return cfg.Model
}

// Group is one problem's candidates from one generator, with everything
// the methods need.
type Group struct {
	Set, Generator, TaskID string
	Passed                 []bool
	Consensus              []float64 // SimpleConsensus among the group
	Examples, ExPassed     []int     // the prompt's examples, passed
	Lexical                []float64 // toppass's lexical feature
	Neural                 []float64 // P(pass); nil without a model
	Behaviour              []float64 // agreement on the examples' and self-made inputs
	exec                   []execrank.ScoreLine
	preds                  []ranker.Prediction
	features               [][]float64 // hybrid.Features, once computed
	// source and model say where the candidates come from: the
	// candidates file and the generator's name in it ("" for a whole
	// group, which holds them all).
	source, model string
}

// Load reads the sets, splits them by generator and computes every
// method's inputs (examples run in the sandbox; the neural model's
// predictions).
func Load(ctx context.Context, cfg Config) ([]*Group, error) {
	var out []*Group
	for _, sp := range cfg.Specs {
		gs, err := loadSpec(ctx, cfg, sp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sp.Name, err)
		}
		out = append(out, gs...)
	}
	return out, nil
}

func loadSpec(ctx context.Context, cfg Config, sp Spec) ([]*Group, error) {
	probs, _, err := dataset.ReadProblems(sp.Problems, cfg.OnError)
	if err != nil {
		return nil, err
	}
	exProbs := probs
	if sp.Examples != "" {
		if exProbs, _, err = dataset.ReadProblems(sp.Examples, cfg.OnError); err != nil {
			return nil, err
		}
	}
	var cands []*dataset.Candidate
	if err := dataset.ReadCandidates(sp.Candidates, func(c *dataset.Candidate) error { cands = append(cands, c); return nil }, cfg.OnError); err != nil {
		return nil, err
	}
	if sp.Style == StyleOneAssert {
		restated := map[string]*dataset.Problem{}
		for id, p := range probs {
			ex := p
			if exProbs[id] != nil {
				ex = exProbs[id]
			}
			if q, ok := OneAssert(ex); ok {
				restated[id] = q
			}
		}
		probs, exProbs = restated, restated
		for _, c := range cands {
			if _, cont := c.Code(); cont && probs[c.TaskID] != nil {
				// A completion continues the prompt it was written for.
				return nil, fmt.Errorf("%s:%d: style %s restates the prompts: it needs whole programs (solution), not completions", c.File, c.Line, sp.Style)
			}
		}
	}
	labels, err := readLabels(sp, cands, cfg.OnError)
	if err != nil {
		return nil, err
	}
	tests := map[string][]string{}
	if sp.Tests != "" {
		if tests, err = execrank.ReadGeneratedTests(sp.Tests, probs, 5, cfg.OnError); err != nil {
			return nil, err
		}
	}
	maxCands := cfg.MaxCands
	if sp.MaxCands > 0 {
		maxCands = sp.MaxCands
	}
	type key struct{ task, gen string }
	byKey := map[key][]*dataset.Candidate{}
	var order []key
	for _, c := range cands {
		if labels[c.Key()] == nil || probs[c.TaskID] == nil {
			continue
		}
		k := key{c.TaskID, c.Model}
		if byKey[k] == nil {
			order = append(order, k)
		}
		if maxCands == 0 || len(byKey[k]) < maxCands {
			byKey[k] = append(byKey[k], c)
		}
	}
	// A set with several generators is also ranked whole, each problem's
	// candidates from all of them together (as a user who samples several
	// models would).
	gens := map[string]bool{}
	for _, k := range order {
		gens[k.gen] = true
	}
	var tasks []string
	whole := map[string][]*dataset.Candidate{}
	if len(gens) > 1 {
		for _, k := range order {
			if whole[k.task] == nil {
				tasks = append(tasks, k.task)
			}
			whole[k.task] = append(whole[k.task], byKey[k]...)
		}
	}
	var bar *progress.Bar
	if cfg.Progress != nil {
		bar = progress.New(cfg.Progress, sp.Name, int64(len(order)+len(tasks)), nil)
		defer bar.Done()
	}
	var out []*Group
	add := func(task, gen string, cs []*dataset.Candidate) error {
		g, err := makeGroup(ctx, cfg, sp.Name, filepath.Clean(sp.Candidates), gen, probs[task], exProbs[task], tests[task], cs, labels)
		if err != nil {
			return err
		}
		out = append(out, g)
		if bar != nil {
			bar.Add(1)
		}
		return nil
	}
	for _, k := range order {
		if err := add(k.task, k.gen, byKey[k]); err != nil {
			return nil, err
		}
	}
	for _, task := range tasks {
		if err := add(task, AllGenerators, whole[task]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readLabels reads a set's labels file, or takes them from the
// candidates' reference verdicts (dataset.ReferenceLabels).
func readLabels(sp Spec, cands []*dataset.Candidate, onErr func(*dataset.LineError) error) (map[dataset.Key]*dataset.Label, error) {
	if sp.Labels != dataset.ReferenceLabels {
		labels, _, err := dataset.ReadLabels(sp.Labels, onErr)
		return labels, err
	}
	labels := map[dataset.Key]*dataset.Label{}
	for _, c := range cands {
		l, err := dataset.ReferenceLabel(c)
		if err != nil {
			return nil, err
		}
		labels[c.Key()] = l
	}
	return labels, nil
}

// AllGenerators names the part of a set with every generator's candidates
// ranked together.
const AllGenerators = "all generators"

// makeGroup computes every method's inputs for one problem's candidates.
func makeGroup(ctx context.Context, cfg Config, set, source, gen string, p, ex *dataset.Problem, tests []string, cs []*dataset.Candidate,
	labels map[dataset.Key]*dataset.Label) (*Group, error) {
	g := &Group{Set: set, Generator: gen, TaskID: p.TaskID, Consensus: ranker.SimpleConsensus(ranker.Codes(cs)), source: source, model: gen}
	if gen == AllGenerators {
		g.model = ""
	}
	if g.Generator == "" {
		g.Generator = set
	}
	for _, c := range cs {
		g.Passed = append(g.Passed, labels[c.Key()].Passed)
	}
	if ex == nil {
		ex = p
	}
	var err error
	g.exec, err = execrank.Evidence(ctx, cfg.SB, p, cs, execrank.EvidenceConfig{Examples: true, ExamplesFrom: ex, Tests: tests,
		SelfInputs: cfg.SelfInputs, Workers: cfg.Workers, Budget: cfg.Budget, Cache: cfg.Cache})
	if err != nil {
		return nil, err
	}
	for _, l := range g.exec {
		g.Examples, g.ExPassed = append(g.Examples, l.Examples), append(g.ExPassed, l.ExamplesPassed)
		g.Behaviour = append(g.Behaviour, l.Behaviour)
	}
	if m := cfg.modelFor(p.TaskID); m != nil {
		for _, pr := range ranker.Lexical(m, p, cs) {
			g.Lexical = append(g.Lexical, pr.Score)
		}
		if g.preds, err = ranker.Score(ctx, m, cfg.Analyse, p, cs); err != nil {
			return nil, err
		}
		for _, pr := range g.preds {
			g.Neural = append(g.Neural, pr.PPass)
		}
	}
	return g, nil
}

// A Method scores a group's candidates (higher first). A method with
// Params has its parameter chosen on validation groups first (Evaluate).
type Method struct {
	Name  string
	Note  string
	Score func(g *Group, param float64) []float64
	// Params, when set, are the values fit chooses from on validation;
	// Param names one in the report (nil: "β value").
	Params []float64
	Param  func(p float64) string
	// NeedsModel, NeedsExamples and NeedsTests say what the method reads.
	NeedsModel, NeedsExamples, NeedsTests bool
	// UsesExamples: the method runs the prompt's examples, so it is
	// compared with examples + consensus (where the part has them); the
	// rest are compared with lexical consensus.
	UsesExamples bool
}

// Methods are the rows of the report, in order.
var Methods = []Method{
	{Name: baseConsensus, Note: "baseline: mean bigram Jaccard to the siblings, first 300 word/number/punctuation tokens",
		Score: func(g *Group, _ float64) []float64 { return g.Consensus }},
	{Name: baseExamples, Note: "baseline: the prompt's examples passed, ties broken by lexical consensus", NeedsExamples: true,
		Score: func(g *Group, _ float64) []float64 { return examplesThen(g, g.Consensus) }},
	{Name: "toppass lexical", Note: "`rank --method lexical`", NeedsModel: true,
		Score: func(g *Group, _ float64) []float64 { return g.Lexical }},
	{Name: "neural", Note: "`rank --method neural`", NeedsModel: true,
		Score: func(g *Group, _ float64) []float64 {
			out := make([]float64, len(g.preds))
			for i, p := range g.preds {
				out[i] = p.Score
			}
			return out
		}},
	{Name: "neural over consensus", Note: "consensus + β · the neural logit, z-scored in the group; β fit problem- and generator-disjoint", NeedsModel: true,
		Params: Betas, Score: anchored},
	{Name: "CodeT + consensus", Note: "dual agreement with the generated tests, ties broken by lexical consensus (no model)", NeedsTests: true,
		Score: func(g *Group, _ float64) []float64 {
			agree := make([]float64, len(g.exec))
			for i, l := range g.exec {
				agree[i] = l.Agreement
			}
			return addZ(agree, 1, g.Consensus, 0.001)
		}},
	{Name: "behaviour + consensus", Note: "toppass's own inputs without a model: agreement with the others' behaviour on them, ties broken by lexical consensus",
		Score: func(g *Group, _ float64) []float64 { return addZ(g.Behaviour, 1, g.Consensus, 0.001) }},
	{Name: "examples + behaviour + consensus", Note: "the prompt's examples passed, then behaviour agreement, then lexical consensus (no model)", NeedsExamples: true, UsesExamples: true,
		Score: func(g *Group, _ float64) []float64 { return examplesThen(g, addZ(g.Behaviour, 1, g.Consensus, 0.001)) }},
	{Name: "hybrid", Note: "`rank --method hybrid` (the rule): examples passed, then the ranks of behaviour agreement (4), CodeT agreement when there are generated tests (4), neural (1), consensus (0.5)", NeedsModel: true, UsesExamples: true,
		Score: func(g *Group, _ float64) []float64 { return hybridRule(g, hybrid.DefaultRule) }},
	{Name: "hybrid, weights chosen on validation", Note: "the rule with its four weights chosen, per half of the problems, from a grid (RuleGrid) on the other half's other generators: what the shipped weights, chosen by looking at these sets, would be if they had been fit problem- and generator-disjoint", NeedsModel: true, UsesExamples: true,
		Params: ruleParams(), Param: func(p float64) string { return ruleName(RuleGrid[int(p)]) },
		Score: func(g *Group, p float64) []float64 { return hybridRule(g, RuleGrid[int(p)]) }},
}

// RuleGrid are the rule weights "hybrid, weights chosen on validation"
// chooses from: behaviour 1-8, neural 0.5-2, consensus 0-1, agreement
// 2-8, the shipped rule first (a tie on validation keeps it).
var RuleGrid = func() []hybrid.RuleWeights {
	out := []hybrid.RuleWeights{hybrid.DefaultRule}
	for _, b := range []float64{1, 2, 4, 8} {
		for _, n := range []float64{0.5, 1, 2} {
			for _, c := range []float64{0, 0.5, 1} {
				for _, a := range []float64{2, 4, 8} {
					if w := (hybrid.RuleWeights{Neural: n, Consensus: c, Behaviour: b, Agreement: a}); w != hybrid.DefaultRule {
						out = append(out, w)
					}
				}
			}
		}
	}
	return out
}()

func ruleParams() []float64 {
	out := make([]float64, len(RuleGrid))
	for i := range out {
		out[i] = float64(i)
	}
	return out
}

func ruleName(w hybrid.RuleWeights) string {
	return fmt.Sprintf("b%g n%g c%g a%g", w.Behaviour, w.Neural, w.Consensus, w.Agreement)
}

// Betas are the residual weights fit chooses from.
var Betas = []float64{0, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3}

// anchored is the neural score as a residual over consensus
// (ranker.Anchor, as a model with consensus_beta ranks).
func anchored(g *Group, beta float64) []float64 {
	preds := make([]ranker.Prediction, len(g.Neural))
	for i, p := range g.Neural {
		preds[i].PPass = p
	}
	ranker.Anchor(preds, g.Consensus, beta)
	out := make([]float64, len(preds))
	for i, p := range preds {
		out[i] = p.Score
	}
	return out
}

// examplesThen ranks by the share of the prompt's examples passed, ties
// broken by score (a group without examples: by score alone).
func examplesThen(g *Group, score []float64) []float64 {
	out := make([]float64, len(score))
	z := zscore(score)
	for i := range out {
		out[i] = z[i] / 1e3
		if g.Examples[i] > 0 {
			out[i] += float64(g.ExPassed[i]) / float64(g.Examples[i])
		}
	}
	return out
}

// hybridFeatures are the group's hybrid.Features, computed once: the
// rule's rows, the weight grid's and the P(pass) fits' all read them.
func (g *Group) hybridFeatures() [][]float64 {
	if g.features == nil {
		g.features = hybrid.Features(g.preds, g.exec, g.Consensus)
	}
	return g.features
}

func hybridRule(g *Group, w hybrid.RuleWeights) []float64 {
	feats := g.hybridFeatures()
	out := make([]float64, len(feats))
	for i, f := range feats {
		out[i] = w.Score(f)
	}
	return out
}

// addZ is a·z(x) + b·z(y).
func addZ(x []float64, a float64, y []float64, b float64) []float64 {
	zx, zy := zscore(x), zscore(y)
	out := make([]float64, len(x))
	for i := range out {
		out[i] = a*zx[i] + b*zy[i]
	}
	return out
}

func zscore(x []float64) []float64 {
	n := float64(len(x))
	var mean, sq float64
	for _, v := range x {
		mean += v
	}
	mean /= math.Max(1, n)
	for _, v := range x {
		sq += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(sq / math.Max(1, n))
	out := make([]float64, len(x))
	for i, v := range x {
		if sd > 1e-12 {
			out[i] = (v - mean) / sd
		}
	}
	return out
}

// pass1 is the mean ranked pass@1 of scores over groups.
func pass1(gs []*Group, score func(*Group) []float64) float64 {
	var sum float64
	for _, g := range gs {
		sum += groupPass1(g, score(g))
	}
	return 100 * sum / math.Max(1, float64(len(gs)))
}

// groupPass1 is one group's ranked pass@1 (ties broken uniformly).
func groupPass1(g *Group, s []float64) float64 {
	sc := make([]metrics.Scored, len(s))
	for i := range s {
		sc[i] = metrics.Scored{Score: s[i], Passed: g.Passed[i]}
	}
	return metrics.RankedPassAtK(sc, 1)
}

// BootstrapDraws is how many resamples of a part's problems the interval
// of a difference is drawn from.
const BootstrapDraws = 2000

// pairedInterval is the 95 % interval, in points of pass@1, of the mean
// of per-problem differences a[i] - b[i] (each in [0, 1]) by a paired
// bootstrap over the problems: a difference whose interval holds 0 is
// within what the choice of problems alone would move. Seeded by the
// data, so a report is the same every run.
func pairedInterval(a, b []float64) (lo, hi float64) {
	n := len(a)
	if n == 0 {
		return 0, 0
	}
	d := make([]float64, n)
	var seed uint64
	for i := range d {
		d[i] = a[i] - b[i]
		seed = seed*31 + uint64(math.Round(1e6*(d[i]+1)))
	}
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	means := make([]float64, BootstrapDraws)
	for k := range means {
		var sum float64
		for range n {
			sum += d[rng.IntN(n)]
		}
		means[k] = 100 * sum / float64(n)
	}
	slices.Sort(means)
	return means[BootstrapDraws*25/1000], means[BootstrapDraws*975/1000-1]
}

// Half splits problems in two by a hash of the task id: the halves that
// parameter fitting uses (fit on one, report on the other).
func Half(taskID string) int { return dataset.Half(taskID) }

// disjoint says whether group g may validate for the part of ref: no
// generator of g's candidates made ref's (a whole group holds all of its
// file's generators; the variants of a set share its candidates).
func disjoint(g, ref *Group) bool {
	if g.source != ref.source {
		return true
	}
	whole := func(x *Group) bool { return x.Generator == AllGenerators }
	return !whole(g) && !whole(ref) && g.model != ref.model
}

// validation is what fits a parameter for the half of ref's part that is
// reported: the groups of the other half of the problems that are
// disjoint from ref.
func validation(all []*Group, ref *Group, half int) []*Group {
	var val []*Group
	for _, g := range all {
		if disjoint(g, ref) && Half(g.TaskID) != half {
			val = append(val, g)
		}
	}
	return val
}

// Row is one method's result on one part.
type Row struct {
	Method string
	Pass1  float64
	Gap    float64 // share of the random-to-oracle gap closed, percent
	Params string  // the parameters chosen on validation, per half
	// Versus is the baseline a method of toppass's is compared with
	// (compareWithBaseline; "" for the baselines themselves), Delta its
	// pass@1 minus the baseline's and Lo, Hi the paired bootstrap's 95 %
	// interval of that difference (pairedInterval).
	Versus        string
	Delta, Lo, Hi float64
	perProblem    []float64 // ranked pass@1 per group of the part, in order
}

// Table is one part of a set: one generator's candidates.
type Table struct {
	Set, Generator     string
	Problems, Cands    int
	Random, Oracle     float64
	Rows               []Row
	ExamplesProblems   int // problems whose prompt states examples
	TestsProblems      int // problems with generated tests
	MeanCandsPerProblm float64
	// ECE of the neural P(pass) as the model gives it, and after Platt
	// scaling fit (per half) on the validation groups; ECEHybrid: of the
	// hybrid's P(pass) (hybrid.FitCalibration, fit per half on the
	// validation groups). -1 without a model.
	ECE, ECECalibrated, ECEHybrid float64
	// ECERefit: of the hybrid's P(pass) after the refit the daemon makes
	// on a user's labels (hybrid.Refit: Platt scaling over it), fit per
	// half on the part's other half: the same generator, other problems.
	ECERefit float64
	// ECERefitFew: the same refit from only RefitSizes[i] of those
	// problems (the mean over RefitDraws draws), as a user with few
	// labelled problems has it. Nil without a model.
	ECERefitFew []float64
}

// RefitSizes are the numbers of labelled problems the few-problem refit is
// measured with; RefitDraws how many random draws of them each.
var (
	RefitSizes = []int{10, 20, 40}
	RefitDraws = 5
)

// Evaluate computes the tables: per set and generator, every method that
// has its inputs. A method with Params has its parameter chosen, for each
// half of the problems, on the other half's groups from the other
// generators (of every set), by ranked pass@1.
func Evaluate(gs []*Group, hasModel bool) []*Table {
	type part struct{ set, gen string }
	parts := map[part][]*Group{}
	var order []part
	for _, g := range gs {
		k := part{g.Set, g.Generator}
		if parts[k] == nil {
			order = append(order, k)
		}
		parts[k] = append(parts[k], g)
	}
	var out []*Table
	for _, k := range order {
		pg := parts[k]
		t := &Table{Set: k.set, Generator: k.gen, Problems: len(pg)}
		for _, g := range pg {
			n, c := len(g.Passed), 0
			for _, p := range g.Passed {
				if p {
					c++
				}
			}
			t.Cands += n
			t.Random += metrics.PassAtK(n, c, 1)
			if c > 0 {
				t.Oracle++
			}
			for _, e := range g.Examples {
				if e > 0 {
					t.ExamplesProblems++
					break
				}
			}
			if len(g.exec) > 0 && g.exec[0].Tests > 0 {
				t.TestsProblems++
			}
		}
		t.Random *= 100 / float64(len(pg))
		t.Oracle *= 100 / float64(len(pg))
		t.MeanCandsPerProblm = float64(t.Cands) / float64(len(pg))
		t.ECE, t.ECECalibrated, t.ECEHybrid, t.ECERefit = -1, -1, -1, -1
		if hasModel {
			t.ECE, t.ECECalibrated, t.ECEHybrid, t.ECERefit, t.ECERefitFew = calibration(gs, pg)
		}
		for _, m := range Methods {
			if m.NeedsModel && !hasModel || m.NeedsExamples && t.ExamplesProblems == 0 || m.NeedsTests && t.TestsProblems == 0 {
				continue
			}
			row := Row{Method: m.Name, perProblem: make([]float64, len(pg))}
			if m.Params == nil {
				for i, g := range pg {
					row.perProblem[i] = groupPass1(g, m.Score(g, 0))
				}
			} else {
				var chosen []string
				for half := range 2 {
					val := validation(gs, pg[0], half)
					best, bestV := m.Params[0], -1.0
					for _, p := range m.Params {
						if v := pass1(val, func(g *Group) []float64 { return m.Score(g, p) }); v > bestV+1e-9 {
							best, bestV = p, v
						}
					}
					if m.Param != nil {
						chosen = append(chosen, m.Param(best))
					} else {
						chosen = append(chosen, "β "+fmt.Sprint(best))
					}
					for i, g := range pg {
						if Half(g.TaskID) == half {
							row.perProblem[i] = groupPass1(g, m.Score(g, best))
						}
					}
				}
				row.Params = strings.Join(chosen, "; ")
			}
			for _, v := range row.perProblem {
				row.Pass1 += v
			}
			row.Pass1 *= 100 / float64(len(pg))
			if t.Oracle-t.Random > 1e-9 {
				row.Gap = 100 * (row.Pass1 - t.Random) / (t.Oracle - t.Random)
			}
			t.Rows = append(t.Rows, row)
		}
		compareWithBaseline(t, Methods)
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Set < out[j].Set })
	return out
}

// The baselines, which learn nothing: issue 10 asks of every method that
// does not run the prompt's examples that it rank at least as well as
// lexical consensus, and of those that do, as well as examples +
// consensus.
const (
	baseConsensus = "lexical consensus"
	baseExamples  = "examples + consensus"
)

// compareWithBaseline fills each of toppass's rows' difference to its
// baseline (UsesExamples: examples + consensus where the part has it,
// else lexical consensus) and the difference's interval.
func compareWithBaseline(t *Table, methods []Method) {
	rows := map[string]*Row{}
	for i := range t.Rows {
		rows[t.Rows[i].Method] = &t.Rows[i]
	}
	for _, m := range methods {
		r := rows[m.Name]
		if r == nil || m.Name == baseConsensus || m.Name == baseExamples {
			continue
		}
		base := rows[baseConsensus]
		if b := rows[baseExamples]; m.UsesExamples && b != nil {
			base = b
		}
		if base == nil {
			continue
		}
		r.Versus, r.Delta = base.Method, r.Pass1-base.Pass1
		r.Lo, r.Hi = pairedInterval(r.perProblem, base.perProblem)
	}
}

// calibration returns the ECE of the part's neural P(pass), the ECE after
// Platt scaling fit for each half of the problems on the other half's
// validation groups (disjoint), the ECE of the hybrid's P(pass) fit the
// same way, and the ECE of that P(pass) refit (hybrid.Refit) on the part's
// own other half, and on RefitSizes problems of it (RefitDraws draws).
// A refit that fails (one class only) leaves the P(pass) unrefit, as the
// daemon does.
func calibration(all, part []*Group) (raw, platt, evidence, refit float64, few []float64) {
	var p, q, e, r []float64
	var y []bool
	fewP := make([][][]float64, len(RefitSizes)) // [size][draw][candidate]
	for i := range fewP {
		fewP[i] = make([][]float64, RefitDraws)
	}
	halves := [2][]*Group{}
	for _, g := range part {
		halves[Half(g.TaskID)] = append(halves[Half(g.TaskID)], g)
	}
	for half := range 2 {
		val := validation(all, part[0], half)
		var vx []float64
		var vy []bool
		for _, g := range val {
			for i, v := range g.Neural {
				vx, vy = append(vx, logit(v)), append(vy, g.Passed[i])
			}
		}
		a, b := metrics.FitPlatt(vx, vy)
		cal, err := FitCalibration(val, "")
		// The refits, from the other half's problems (their features
		// computed once): all of them, and RefitDraws draws of each size.
		refitOn := func(ls []hybrid.Labelled) *hybrid.Fusion {
			m, ferr := hybrid.Refit(cal, ls, "")
			if ferr != nil {
				return cal
			}
			return m
		}
		var own *hybrid.Fusion
		fewFits := make([][]*hybrid.Fusion, len(RefitSizes))
		if err == nil {
			other := labelled(halves[1-half], nil)
			own = refitOn(other)
			for si, n := range RefitSizes {
				for d := range RefitDraws {
					draw := slices.Clone(other)
					rng := rand.New(rand.NewPCG(uint64(n), uint64(d)))
					rng.Shuffle(len(draw), func(i, j int) { draw[i], draw[j] = draw[j], draw[i] })
					fewFits[si] = append(fewFits[si], refitOn(draw[:min(n, len(draw))]))
				}
			}
		}
		for _, g := range halves[half] {
			for i, v := range g.Neural {
				p, q, y = append(p, v), append(q, sigmoid(a*logit(v)+b)), append(y, g.Passed[i])
			}
			if err == nil {
				for _, f := range g.hybridFeatures() {
					e, r = append(e, cal.PPass(f)), append(r, own.PPass(f))
					for si := range RefitSizes {
						for d, m := range fewFits[si] {
							fewP[si][d] = append(fewP[si][d], m.PPass(f))
						}
					}
				}
			}
		}
	}
	evidence, refit = -1, -1
	if len(e) == len(y) {
		evidence, refit = metrics.Calibrate(e, y, 10).ECE, metrics.Calibrate(r, y, 10).ECE
		for si := range RefitSizes {
			var sum float64
			for d := range RefitDraws {
				sum += metrics.Calibrate(fewP[si][d], y, 10).ECE
			}
			few = append(few, sum/float64(RefitDraws))
		}
	}
	return metrics.Calibrate(p, y, 10).ECE, metrics.Calibrate(q, y, 10).ECE, evidence, refit, few
}

// labelled is the groups' candidates as hybrid.Labelled, each group
// weighing weight(g) (nil: 1).
func labelled(gs []*Group, weight func(*Group) float64) []hybrid.Labelled {
	var ls []hybrid.Labelled
	for _, g := range gs {
		w := 1.0
		if weight != nil {
			w = weight(g)
		}
		ls = append(ls, hybrid.Labelled{X: g.hybridFeatures(), Passed: g.Passed, Weight: w})
	}
	return ls
}

// FitCalibration fits the hybrid's P(pass) model on the groups' candidates
// (hybrid.FitCalibration), each part (set and generator) weighing the same
// and each problem the same within its part.
func FitCalibration(gs []*Group, note string) (*hybrid.Fusion, error) {
	type part struct{ set, gen string }
	n := map[part]int{}
	for _, g := range gs {
		n[part{g.Set, g.Generator}]++
	}
	ls := labelled(gs, func(g *Group) float64 { return 1 / float64(n[part{g.Set, g.Generator}]) })
	return hybrid.FitCalibration(ls, note)
}

func logit(p float64) float64 {
	p = math.Min(1-1e-6, math.Max(1e-6, p))
	return math.Log(p / (1 - p))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Markdown writes the tables.
func Markdown(w io.Writer, ts []*Table) {
	for _, t := range ts {
		name := t.Set
		if t.Generator != t.Set {
			name += " / " + t.Generator
		}
		tests := ""
		if t.TestsProblems > 0 {
			tests = fmt.Sprintf(", %d with generated tests", t.TestsProblems)
		}
		fmt.Fprintf(w, "\n**%s**: %d problems, %.0f candidates each (%d with examples in the prompt%s); random %.2f, oracle %.2f\n\n",
			name, t.Problems, t.MeanCandsPerProblm, t.ExamplesProblems, tests, t.Random, t.Oracle)
		fmt.Fprintln(w, "| method | ranked pass@1 | gap closed | vs the baseline [95 % interval] | chosen on validation |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, r := range t.Rows {
			vs := ""
			if r.Versus != "" {
				vs = fmt.Sprintf("%+.2f [%+.2f, %+.2f] vs %s", r.Delta, r.Lo, r.Hi, r.Versus)
			}
			fmt.Fprintf(w, "| %s | %.2f | %.0f %% | %s | %s |\n", r.Method, r.Pass1, r.Gap, vs, r.Params)
		}
		if t.ECE >= 0 {
			fmt.Fprintf(w, "\nP(pass), expected calibration error: the neural model's %.3f as it gives it, %.3f after Platt scaling fit on validation", t.ECE, t.ECECalibrated)
			if t.ECEHybrid >= 0 {
				fmt.Fprintf(w, "; the hybrid's (all the evidence, fit on validation) %.3f", t.ECEHybrid)
				if t.ECERefit >= 0 {
					fmt.Fprintf(w, ", %.3f refit on this generator's other problems (the daemon's refit)", t.ECERefit)
					for i, v := range t.ECERefitFew {
						fmt.Fprintf(w, ", %.3f from %d of them", v, RefitSizes[i])
					}
				}
			}
			fmt.Fprintln(w, ".")
		}
	}
}

// dumpLine is one group in Dump's output.
type dumpLine struct {
	Set        string     `json:"set"`
	Generator  string     `json:"generator"`
	TaskID     string     `json:"task_id"`
	Passed     []bool     `json:"passed"`
	Consensus  []float64  `json:"consensus"`
	Examples   []int      `json:"examples"`
	ExPassed   []int      `json:"examples_passed"`
	Behaviour  []float64  `json:"behaviour"`
	Agreement  []float64  `json:"agreement"`
	Neural     []float64  `json:"neural,omitempty"` // the ranking score (ranker.Prediction.Score)
	Signatures [][]string `json:"sigs"`
}

// Dump writes every group's evidence, one JSON object a line (the
// labels, the consensus, examples passed, behaviour, CodeT agreement,
// the neural score and each candidate's results on the probe calls): the
// inputs of every method, to study a new one without running anything.
func Dump(w io.Writer, gs []*Group) error {
	enc := json.NewEncoder(w)
	for _, g := range gs {
		d := dumpLine{Set: g.Set, Generator: g.Generator, TaskID: g.TaskID, Passed: g.Passed, Consensus: g.Consensus,
			Examples: g.Examples, ExPassed: g.ExPassed, Behaviour: g.Behaviour}
		for _, l := range g.exec {
			d.Agreement = append(d.Agreement, l.Agreement)
			d.Signatures = append(d.Signatures, l.Sigs)
		}
		for _, p := range g.preds {
			d.Neural = append(d.Neural, p.Score)
		}
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return nil
}
