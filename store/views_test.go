package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/toppass/toppass/dataset"
)

// seedViews stores a set of nprob problems with ncand candidates each,
// every one labelled (every third passes) and scored under model m/neural.
func seedViews(tb testing.TB, s *Store, nprob, ncand int) *Set {
	tb.Helper()
	ctx := context.Background()
	set, err := s.AddSet(ctx, fmt.Sprintf("/data/views-%d", nprob))
	if err != nil {
		tb.Fatal(err)
	}
	var probs []*dataset.Problem
	var cands []*dataset.Candidate
	for i := range nprob {
		task := fmt.Sprintf("p/%04d", i)
		probs = append(probs, &dataset.Problem{TaskID: task, Prompt: fmt.Sprintf("def f(x):\n    \"\"\"%d\"\"\"\n", i), EntryPoint: "f",
			Test: "def check(c):\n    assert c(1) == 2\n"})
		for j := range ncand {
			cands = append(cands, cand(task, j, fmt.Sprintf("    return x + %d\n", j%7)))
		}
	}
	if _, err := s.Sync(ctx, set.ID, probs, cands); err != nil {
		tb.Fatal(err)
	}
	for i, p := range probs {
		ph := ProblemHash(p)
		var ls []Labelled
		var sc []Score
		for j := range ncand {
			c := cands[i*ncand+j]
			ch := CandidateHash(c)
			ls = append(ls, Labelled{ph, ch, &dataset.Label{Passed: j%3 == 0, Status: map[bool]string{true: "pass", false: "fail"}[j%3 == 0]}})
			sc = append(sc, Score{CandHash: ch, Score: float64(j), PPass: 0.5, Rank: ncand - j})
		}
		if err := s.PutLabels(ctx, "env", ls); err != nil {
			tb.Fatal(err)
		}
		if err := s.PutScores(ctx, set.ID, "m", "neural", ph, sc); err != nil {
			tb.Fatal(err)
		}
	}
	return set
}

func TestViews(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	set := seedViews(t, s, 4, 6)
	sums, err := s.SetSummaries(ctx, "env")
	if err != nil || len(sums) != 1 {
		t.Fatal(sums, err)
	}
	// Candidates j%7 repeat no code within a problem of 6: 6 distinct.
	if g := sums[0]; g.Problems != 4 || g.Candidates != 24 || g.Labelled != 24 || g.Passed != 8 {
		t.Fatalf("set summary %+v", g)
	}
	if g, _ := s.SetSummaries(ctx, "other-env"); g[0].Labelled != 0 || g[0].Candidates != 24 {
		t.Fatalf("labels of another environment counted: %+v", g[0])
	}
	ps, err := s.ProblemSummaries(ctx, set.ID, "env", "m", "neural")
	if err != nil || len(ps) != 4 {
		t.Fatal(ps, err)
	}
	// Rank 1 is j = 5, which fails (5 % 3 != 0).
	if p := ps[0]; p.TaskID != "p/0000" || p.Candidates != 6 || p.Passed != 2 || p.Top1 != 0 {
		t.Fatalf("problem summary %+v", p)
	}
	if ps, _ := s.ProblemSummaries(ctx, set.ID, "env", "other", "neural"); ps[0].Top1 != -1 {
		t.Fatalf("unscored model has a top-1: %+v", ps[0])
	}
	prob, cv, err := s.ProblemView(ctx, set.ID, "p/0002", "env", "m", "neural")
	if err != nil || prob.TaskID != "p/0002" || len(cv) != 6 {
		t.Fatal(prob, cv, err)
	}
	if cv[3].Label == nil || !cv[3].Label.Passed || cv[3].Score == nil || cv[3].Score.Rank != 3 || cv[3].Index != 3 {
		t.Fatalf("candidate 3: %+v %+v", cv[3].Label, cv[3].Score)
	}
	if _, _, err := s.ProblemView(ctx, set.ID, "nope", "env", "m", "neural"); err == nil {
		t.Fatal("a missing problem gave no error")
	}
	if err := s.PutEval(ctx, &Eval{SetID: set.ID, Model: "m", Method: "neural", Data: []byte(`{"x":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutEval(ctx, &Eval{SetID: set.ID, Model: "m", Method: "neural", Data: []byte(`{"x":2}`)}); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Evals(ctx, 0)
	if err != nil || len(ev) != 1 || string(ev[0].Data) != `{"x":2}` {
		t.Fatal(ev, err)
	}
	// The labelled rows of one set, or of all.
	other := seedViews(t, s, 2, 3)
	one, err := s.TrainingRows(ctx, "env", set.ID)
	if err != nil || len(one) != 24 {
		t.Fatalf("rows of one set: %d %v", len(one), err)
	}
	for _, r := range one {
		if r.SetID != set.ID {
			t.Fatalf("a row of set %d among set %d's", r.SetID, set.ID)
		}
	}
	if all, _ := s.TrainingRows(ctx, "env", 0); len(all) != 24+6 {
		t.Fatalf("rows of every set: %d", len(all))
	}
	if rows, _ := s.TrainingRows(ctx, "env", other.ID); len(rows) != 6 {
		t.Fatalf("rows of the other set: %d", len(rows))
	}
	// Counted without reading them: 4 problems, 2 more, none in another env.
	for _, c := range []struct {
		env  string
		set  int64
		want int
	}{{"env", set.ID, 4}, {"env", other.ID, 2}, {"env", 0, 6}, {"other-env", 0, 0}} {
		if n, err := s.LabelledProblems(ctx, c.env, c.set); err != nil || n != c.want {
			t.Errorf("labelled problems in %s, set %d: %d (%v), want %d", c.env, c.set, n, err, c.want)
		}
	}
}

// BenchmarkViews reads the dashboard's views of a store of 50,000 labels
// (500 problems x 100 candidates).
func BenchmarkViews(b *testing.B) {
	ctx := context.Background()
	s := open(b)
	set := seedViews(b, s, 500, 100)
	b.Run("SetSummaries", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.SetSummaries(ctx, "env"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ProblemSummaries", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.ProblemSummaries(ctx, set.ID, "env", "m", "neural"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ProblemView", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.ProblemView(ctx, set.ID, "p/0250", "env", "m", "neural"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
