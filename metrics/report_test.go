package metrics

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toppass/toppass/dataset"
)

func TestEvaluate(t *testing.T) {
	var labels []*dataset.Label
	add := func(task string, idx int, status string) {
		labels = append(labels, &dataset.Label{TaskID: task, Index: idx, Status: status, Passed: status == "pass"})
	}
	// A/1: 1 of 4 passes; A/2: none; B/1: 2 of 2.
	add("A/1", 0, "fail")
	add("A/1", 1, "pass")
	add("A/1", 2, "error")
	add("A/1", 3, "fail")
	add("A/2", 0, "error")
	add("A/2", 1, "timeout")
	add("B/1", 0, "pass")
	add("B/1", 1, "pass")
	scores := map[dataset.Key]float64{
		{TaskID: "A/1", Index: 1}: 0.9, {TaskID: "A/1", Index: 0}: 0.5,
		{TaskID: "A/2", Index: 0}: 0.1,
		{TaskID: "B/1", Index: 0}: 0.2, {TaskID: "B/1", Index: 1}: 0.3,
	}
	rep := Evaluate(labels, scores, []int{1, 2})
	if len(rep.Rows) != 3 || rep.Rows[0].Dataset != "A" || rep.Rows[2].Dataset != "all" {
		t.Fatalf("rows %+v", rep.Rows)
	}
	a := rep.Rows[0]
	if a.Problems != 2 || a.Candidates != 6 || a.Random["1"] != 12.5 || a.Ranked["1"] != 50 || a.Oracle != 50 {
		t.Fatalf("A: %+v", a)
	}
	// Ranked exec@1 for A: A/1's top (index 1) ran; A/2's top (index 0)
	// raised: 50%. A/2 index 1 has no score.
	if a.RankedExec["1"] != 50 || a.Unscored != 3 {
		t.Fatalf("A exec: %+v", a)
	}
	all := rep.Rows[2]
	if all.Problems != 3 || all.Ranked["1"] != 66.67 {
		t.Fatalf("all: %+v", all)
	}
	var buf bytes.Buffer
	rep.Print(&buf)
	if !strings.Contains(buf.String(), "ranked@1") || !strings.Contains(buf.String(), "66.67") {
		t.Fatalf("table:\n%s", buf.String())
	}
	if r := Evaluate(labels, nil, []int{1}); r.Rows[0].Ranked != nil {
		t.Fatal("ranked figures without scores")
	}
}

func TestReadScores(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.jsonl")
	os.WriteFile(p, []byte(`{"task_id": "a", "index": 0, "score": 1.5}
{"task_id": "a", "index": 1}
oops
{"task_id": "a", "index": 2, "score": -3}
`), 0o644)
	var errs []string
	s, err := ReadScores(p, func(e *dataset.LineError) error { errs = append(errs, e.Error()); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[dataset.Key{TaskID: "a", Index: 2}] != -3 {
		t.Fatalf("scores %v", s)
	}
	if len(errs) != 2 || !strings.Contains(errs[0], "s.jsonl:2:") || !strings.Contains(errs[1], "s.jsonl:3:") {
		t.Fatalf("errors %q", errs)
	}
}
