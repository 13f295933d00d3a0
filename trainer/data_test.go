package trainer

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/toppass/toppass/dataset"
)

// A set with "reference" labels takes the candidates' recorded verdicts,
// and Keep drops the other problems before anything is read of them.
func TestLoadSetsReferenceAndKeep(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	probs := write("p.jsonl", `{"task_id": "a", "prompt": "def f(x):\n", "entry_point": "f", "test": "assert f(1) == 2"}
{"task_id": "b", "prompt": "def g(x):\n", "entry_point": "g", "test": "assert g(1) == 2"}
`)
	cands := write("c.jsonl", `{"task_id": "a", "completion": "    return x + 1\n", "reference_status": "OK"}
{"task_id": "a", "completion": "    return x\n", "reference_status": "AssertionError"}
{"task_id": "b", "completion": "    return x + 1\n", "reference_status": "OK"}
`)
	set := Set{Problems: probs, Candidates: cands, Labels: dataset.ReferenceLabels}
	var errs dataset.ErrorLog
	all, err := LoadSets(context.Background(), []Set{set}, nil, &errs)
	if err != nil || errs.Err() != nil || len(all) != 2 {
		t.Fatalf("all: %d problems, %v %v", len(all), err, errs.Err())
	}
	if a := all[0]; a.TaskID != "a" || len(a.Rows) != 2 || !a.Rows[0].Label.Passed || a.Rows[1].Label.Passed {
		t.Fatalf("a: %+v", a.Rows)
	}
	set.Keep = func(id string) bool { return dataset.Half(id) == dataset.Half("b") }
	kept, err := LoadSets(context.Background(), []Set{set}, nil, &errs)
	if err != nil || len(kept) != 1 || kept[0].TaskID != "b" {
		t.Fatalf("kept: %v %v", kept, err)
	}
}
