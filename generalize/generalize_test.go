package generalize

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/hybrid"
	"github.com/toppass/toppass/ranker"
)

// group builds a group of candidates with the given labels, consensus and
// neural P(pass); every candidate has one example, passed when ex[i].
func group(set, gen, task string, passed []bool, cons, neural []float64, ex []bool) *Group {
	g := &Group{Set: set, Generator: gen, TaskID: task, Passed: passed, Consensus: cons, Neural: neural, source: set + ".jsonl", model: gen}
	for i := range passed {
		g.Examples = append(g.Examples, 1)
		p := 0
		if ex[i] {
			p = 1
		}
		g.ExPassed = append(g.ExPassed, p)
		g.Lexical = append(g.Lexical, cons[i])
		g.Behaviour = append(g.Behaviour, 0)
		g.preds = append(g.preds, ranker.Prediction{Score: neural[i], PPass: neural[i]})
		g.exec = append(g.exec, execrank.ScoreLine{Examples: 1, ExamplesPassed: p})
	}
	return g
}

func TestAnchoredAndExamples(t *testing.T) {
	g := group("s", "a", "t/1", []bool{false, true, false}, []float64{0.9, 0.5, 0.1}, []float64{0.1, 0.9, 0.5}, []bool{false, true, true})
	// β = 0 is consensus's order.
	if s := anchored(g, 0); !(s[0] > s[1] && s[1] > s[2]) {
		t.Fatalf("β 0: %v", s)
	}
	// A large β is the neural order.
	if s := anchored(g, 100); !(s[1] > s[2] && s[2] > s[0]) {
		t.Fatalf("β 100: %v", s)
	}
	// Examples first: 1 and 2 pass theirs; consensus breaks the tie.
	if s := examplesThen(g, g.Consensus); !(s[1] > s[2] && s[2] > s[0]) {
		t.Fatalf("examples then consensus: %v", s)
	}
}

// TestEvaluateChoosesOnOtherGeneratorsAndProblems builds two generators
// where the neural score is right and consensus wrong: β is chosen large,
// on the other generator's other half, and the report is exact.
func TestEvaluateChoosesOnOtherGeneratorsAndProblems(t *testing.T) {
	var gs []*Group
	for _, gen := range []string{"a", "b"} {
		for i := range 40 {
			// Candidate 0 is typical but wrong; 1 is right, and the
			// model knows it.
			gs = append(gs, group("s", gen, fmt.Sprintf("t/%d", i), []bool{false, true, false},
				[]float64{0.9, 0.5, 0.4}, []float64{0.2, 0.8, 0.3}, []bool{true, true, false}))
		}
	}
	ts := Evaluate(gs, true)
	if len(ts) != 2 || ts[0].Generator != "a" || ts[0].Problems != 40 {
		t.Fatalf("tables %+v", ts)
	}
	rows := map[string]Row{}
	for _, r := range ts[0].Rows {
		rows[r.Method] = r
	}
	if math.Abs(ts[0].Random-100.0/3) > 1e-9 || ts[0].Oracle != 100 {
		t.Fatalf("random %v oracle %v", ts[0].Random, ts[0].Oracle)
	}
	if rows["lexical consensus"].Pass1 != 0 || rows["neural"].Pass1 != 100 || rows["examples + consensus"].Pass1 != 0 {
		t.Fatalf("rows %+v", rows)
	}
	if r := rows["neural over consensus"]; r.Pass1 != 100 || slices.Contains(strings.Split(r.Params, "; "), "β 0") || r.Gap != 100 {
		t.Fatalf("neural over consensus %+v", r)
	}
	// The model, which runs nothing, is compared with lexical consensus
	// (0), the hybrid with examples + consensus (0); the model is right on
	// every problem, so the interval is a point.
	if r := rows["neural"]; r.Versus != "lexical consensus" || r.Delta != 100 || r.Lo != 100 || r.Hi != 100 {
		t.Fatalf("neural vs the baseline %+v", r)
	}
	if r := rows["hybrid"]; r.Versus != "examples + consensus" || r.Delta != 100 {
		t.Fatalf("hybrid vs the baseline %+v", r)
	}
	if r := rows["lexical consensus"]; r.Versus != "" {
		t.Fatalf("a baseline compared with itself: %+v", r)
	}
	// The hybrid: the two candidates passing the example, then the
	// neural rank outweighs consensus's.
	if r := rows["hybrid"]; r.Pass1 != 100 {
		t.Fatalf("hybrid %+v", r)
	}
	// The neural P(pass) (0.2, 0.8, 0.3) is off by 0.23 on average; the
	// hybrid's, fit on the other generator, is near the truth.
	if math.Abs(ts[0].ECE-0.7/3) > 1e-9 || ts[0].ECEHybrid < 0 || ts[0].ECEHybrid > 0.05 {
		t.Errorf("ECE neural %.3f, hybrid %.3f", ts[0].ECE, ts[0].ECEHybrid)
	}
	// Without a model, the model's rows are absent.
	for _, r := range Evaluate(gs, false)[0].Rows {
		if r.Method == "neural" || r.Method == "toppass lexical" {
			t.Fatalf("a model's row without a model: %v", r)
		}
	}
}

// TestRuleWeightsChosenOnValidation: where behaviour agreement points at
// a wrong candidate and the model at the right one, the shipped rule
// (behaviour 4, neural 1) picks the wrong one, and the row whose weights
// are chosen on the other generator's other half picks the right one,
// naming weights that put the model above behaviour.
func TestRuleWeightsChosenOnValidation(t *testing.T) {
	var gs []*Group
	for _, gen := range []string{"a", "b"} {
		for i := range 40 {
			g := group("s", gen, fmt.Sprintf("t/%d", i), []bool{false, true, false},
				[]float64{0.9, 0.5, 0.4}, []float64{0.2, 0.8, 0.3}, []bool{true, true, false})
			for k, b := range []float64{0.9, 0.1, 0.5} {
				g.Behaviour[k], g.exec[k].Behaviour = b, b
			}
			gs = append(gs, g)
		}
	}
	rows := map[string]Row{}
	for _, r := range Evaluate(gs, true)[0].Rows {
		rows[r.Method] = r
	}
	if r := rows["hybrid"]; r.Pass1 != 0 {
		t.Fatalf("the shipped rule: %+v", r)
	}
	r := rows["hybrid, weights chosen on validation"]
	if r.Pass1 != 100 || strings.Contains(r.Params, ruleName(hybrid.DefaultRule)) {
		t.Fatalf("weights chosen on validation: %+v", r)
	}
	for _, w := range strings.Split(r.Params, "; ") {
		var b, n, c, a float64
		if _, err := fmt.Sscanf(w, "b%g n%g c%g a%g", &b, &n, &c, &a); err != nil || n <= b {
			t.Errorf("chosen %q: the model should weigh more than behaviour", w)
		}
	}
	if RuleGrid[0] != hybrid.DefaultRule || slices.Index(RuleGrid[1:], hybrid.DefaultRule) >= 0 {
		t.Errorf("the grid holds the shipped rule first, once")
	}
}

// TestPairedInterval: the bootstrap interval of a mean difference holds
// the difference, is a point when every problem differs alike, and holds
// 0 when one problem of forty decides it.
func TestPairedInterval(t *testing.T) {
	a, b := make([]float64, 40), make([]float64, 40)
	if lo, hi := pairedInterval(a, b); lo != 0 || hi != 0 {
		t.Fatalf("equal: [%v, %v]", lo, hi)
	}
	a[3] = 1
	lo, hi := pairedInterval(a, b)
	if !(lo <= 0 && hi >= 2.5 && hi <= 10) {
		t.Fatalf("one problem of 40: [%v, %v]", lo, hi)
	}
	if lo2, hi2 := pairedInterval(a, b); lo2 != lo || hi2 != hi {
		t.Fatalf("not reproducible: [%v, %v] then [%v, %v]", lo, hi, lo2, hi2)
	}
	for i := range a {
		a[i], b[i] = 1, 0.5
	}
	if lo, hi := pairedInterval(a, b); math.Abs(lo-50) > 1e-9 || math.Abs(hi-50) > 1e-9 {
		t.Fatalf("all alike: [%v, %v]", lo, hi)
	}
	for i := range a {
		a[i] = float64(i%4) / 4
	}
	var mean float64
	for i := range a {
		mean += 100 * (a[i] - b[i]) / float64(len(a))
	}
	if lo, hi := pairedInterval(a, b); !(lo < mean && mean < hi) {
		t.Fatalf("mean %v outside [%v, %v]", mean, lo, hi)
	}
}

// TestDisjoint: validation never shares a generator with the part, and a
// set's variants (the same candidates with other evidence) are one
// generator.
func TestDisjoint(t *testing.T) {
	mk := func(set, source, gen string) *Group {
		g := &Group{Set: set, Generator: gen, source: source, model: gen}
		if gen == "" {
			g.Generator = set
		}
		if gen == AllGenerators {
			g.model = ""
		}
		return g
	}
	cg, cgNoEx := mk("codegen", "cg.jsonl", ""), mk("codegen-noex", "cg.jsonl", "")
	dv := mk("davinci", "dv.jsonl", "")
	gpt, ds, all := mk("pc", "pc.jsonl", "gpt-4o"), mk("pc", "pc.jsonl", "deepseek"), mk("pc", "pc.jsonl", AllGenerators)
	for _, c := range []struct {
		g, ref *Group
		want   bool
	}{
		{cgNoEx, cg, false}, {cg, cgNoEx, false}, {cg, cg, false},
		{dv, cg, true}, {cg, dv, true}, {all, cg, true},
		{ds, gpt, true}, {gpt, ds, true}, {gpt, gpt, false},
		{all, gpt, false}, {gpt, all, false}, {all, all, false},
	} {
		if got := disjoint(c.g, c.ref); got != c.want {
			t.Errorf("disjoint(%s/%s, %s/%s) = %v", c.g.Set, c.g.Generator, c.ref.Set, c.ref.Generator, got)
		}
	}
}

func TestParseSpec(t *testing.T) {
	sp, err := ParseSpec("he=p.jsonl,c.jsonl,l.jsonl,ex.jsonl")
	if err != nil || sp.Name != "he" || sp.Examples != "ex.jsonl" || sp.Labels != "l.jsonl" {
		t.Fatal(sp, err)
	}
	if sp, err := ParseSpec("cg=p,c,l,,t.jsonl"); err != nil || sp.Examples != "" || sp.Tests != "t.jsonl" {
		t.Fatal(sp, err)
	}
	if sp, err := ParseSpec("dv/30=p,c,reference"); err != nil || sp.Name != "dv" || sp.MaxCands != 30 || sp.Labels != dataset.ReferenceLabels {
		t.Fatal(sp, err)
	}
	for _, bad := range []string{"p,c,l", "=p,c,l", "x=p,c", "x=p,c,l,e,t,f", "x/0=p,c,l", "x/y=p,c,l", "/3=p,c,l"} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestOneAssert(t *testing.T) {
	p := &dataset.Problem{TaskID: "t/1", EntryPoint: "longest", Prompt: `from typing import List


def longest(strings: List[str]) -> str:
    """ Out of list of strings, return the longest one.
    Return the first one in case of a tie.
    >>> longest(['a', 'bb', 'cc'])  # the first of the longest
    'bb'
    >>> longest(['x'])
    'x'
    """
`}
	q, ok := OneAssert(p)
	want := "Out of list of strings, return the longest one. Return the first one in case of a tie.\nassert longest(['a', 'bb', 'cc']) == 'bb'\n"
	if !ok || q.Prompt != want || q.EntryPoint != "longest" || p.Prompt == q.Prompt {
		t.Fatalf("restated %v:\n%q\nwant\n%q", ok, q.Prompt, want)
	}
	// Restated, it still states its example, and nothing else.
	if ex := execrank.ExtractExamples(q.Prompt, q.EntryPoint); len(ex) != 1 || ex[0] != "assert longest(['a', 'bb', 'cc']) == 'bb'" {
		t.Fatalf("examples of the restated prompt: %q", ex)
	}
	for _, bad := range []string{"def longest(s):\n    \"\"\"No example.\"\"\"\n", "def longest(s):\n    return s\n"} {
		if _, ok := OneAssert(&dataset.Problem{EntryPoint: "longest", Prompt: bad}); ok {
			t.Errorf("restated %q", bad)
		}
	}
	if sp, err := ParseSpec("pc:one-assert=p,c,l,ex"); err != nil || sp.Name != "pc" || sp.Style != StyleOneAssert {
		t.Fatal(sp, err)
	}
	if _, err := ParseSpec("pc:mbpp=p,c,l"); err == nil {
		t.Error("unknown style accepted")
	}
}

// With --cross-fit, a problem is scored by the model trained on the other
// half of the problems, never by the one that saw it.
func TestCrossFitScoresWithTheOtherHalf(t *testing.T) {
	a, b := &ranker.Model{Config: ranker.Config{Layers: 1}}, &ranker.Model{Config: ranker.Config{Layers: 2}}
	cfg := Config{Model: a}
	if cfg.modelFor("a") != a {
		t.Fatal("without cross-fit, the one model scores every problem")
	}
	cfg.CrossFit = &[2]*ranker.Model{a, b} // a trained on half 0, b on half 1
	for _, id := range []string{"a", "b", "HumanEval/0", "HumanEval/1", "HumanEval/2"} {
		want := a
		if dataset.Half(id) == 0 {
			want = b
		}
		if cfg.modelFor(id) != want {
			t.Errorf("%s (half %d) scored by the model trained on its own half", id, dataset.Half(id))
		}
	}
}

// TestDump: one line a group, with the labels, the evidence and each
// candidate's results on the probe calls, as Evaluate saw them.
func TestDump(t *testing.T) {
	g := group("s", "a", "t/1", []bool{false, true}, []float64{0.9, 0.5}, []float64{0.2, 0.8}, []bool{true, false})
	g.exec[0].Sigs, g.exec[1].Sigs = []string{"ab12cd34", "!TypeError"}, []string{"ab12cd34", ""}
	g2 := group("s", "b", "t/2", []bool{true}, []float64{1}, []float64{0.5}, []bool{true})
	var b strings.Builder
	if err := Dump(&b, []*Group{g, g2}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), b.String())
	}
	var d dumpLine
	if err := json.Unmarshal([]byte(lines[0]), &d); err != nil {
		t.Fatal(err)
	}
	if d.TaskID != "t/1" || d.Generator != "a" || !slices.Equal(d.Passed, []bool{false, true}) || !slices.Equal(d.ExPassed, []int{1, 0}) ||
		!slices.Equal(d.Neural, []float64{0.2, 0.8}) || len(d.Signatures) != 2 || d.Signatures[0][1] != "!TypeError" || d.Signatures[1][1] != "" {
		t.Fatalf("dumped %+v", d)
	}
}
