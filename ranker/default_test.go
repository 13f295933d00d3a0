package ranker

import (
	"math"
	"testing"

	"github.com/toppass/toppass/dataset"
)

// The shipped model loads, scores the sample's candidates with
// probabilities, deterministically, and agrees with itself after a
// save/load round trip.
func TestDefaultModelScoresTheSample(t *testing.T) {
	be := testBackend(t)
	m, err := LoadDefault(be)
	if err != nil {
		t.Fatal(err)
	}
	probs, order, byTask := sample(t)
	dir := t.TempDir()
	if err := m.Save(dir, false); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(be, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range order {
		g := m.Encode(ProblemText(probs[id]), Codes(byTask[id]), nil)
		a, err := m.Predict(g)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := m.Predict(g)
		c, _ := m2.Predict(m2.Encode(ProblemText(probs[id]), Codes(byTask[id]), nil))
		for i := range a {
			if a[i].Score <= 0 || a[i].Score >= 1 || math.IsNaN(a[i].Score) {
				t.Fatalf("%s #%d: score %v", id, i, a[i].Score)
			}
			if a[i] != b[i] || a[i] != c[i] {
				t.Fatalf("%s #%d: %+v, again %+v, reloaded %+v", id, i, a[i], b[i], c[i])
			}
			if a[i].ErrorLine < 1 {
				t.Errorf("%s #%d: error line %d", id, i, a[i].ErrorLine)
			}
		}
	}
}

// sample reads the shipped sample's problems and candidates.
func sample(t *testing.T) (map[string]*dataset.Problem, []string, map[string][]*dataset.Candidate) {
	t.Helper()
	var errs dataset.ErrorLog
	probs, order, byTask, err := ProblemCandidates("../testdata/sample/problems.jsonl", "../testdata/sample/candidates.jsonl", &errs)
	if err != nil || errs.Err() != nil {
		t.Fatal(err, errs.Err())
	}
	return probs, order, byTask
}
