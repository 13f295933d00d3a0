package dataset

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadSetFolders(t *testing.T) {
	var errs ErrorLog
	probs, cands, err := ReadSet("../testdata/sets/folders", errs.Add)
	if err != nil || errs.N != 0 {
		t.Fatalf("%v %v", err, errs.First)
	}
	byTask := map[string]*Problem{}
	for _, p := range probs {
		byTask[p.TaskID] = p
	}
	if len(probs) != 3 || byTask["add_one"].EntryPoint != "add_one" || byTask["max_pair"].EntryPoint != "max_pair" {
		t.Fatalf("problems: %+v", probs)
	}
	if k := byTask["sum_lines"].Kind(); k != KindStdio || len(byTask["sum_lines"].StdioTests()) != 2 {
		t.Fatalf("sum_lines: kind %v, %d tests", k, len(byTask["sum_lines"].StdioTests()))
	}
	kinds := map[string]string{}
	for _, c := range cands {
		k := "completion"
		if c.Solution != nil {
			k = "solution"
		}
		kinds[c.TaskID+"#"+itoa(*c.Index)] = k
	}
	want := map[string]string{"add_one#0": "completion", "add_one#1": "completion", "max_pair#0": "completion",
		"max_pair#1": "completion", "sum_lines#0": "solution", "sum_lines#1": "solution",
		"add_one#" + itoa(CandidateIndex("whole.py")): "solution"}
	if len(kinds) != len(want) {
		t.Fatalf("candidates %v", kinds)
	}
	for k, v := range want {
		if kinds[k] != v {
			t.Errorf("%s: %q, want %q", k, kinds[k], v)
		}
	}
}

func TestReadSetJSONL(t *testing.T) {
	var errs ErrorLog
	probs, cands, err := ReadSet("../testdata/sets/jsonl", errs.Add)
	if err != nil || errs.N != 0 || len(probs) != 1 || len(cands) != 3 {
		t.Fatalf("%d problems, %d candidates, %v %v", len(probs), len(cands), err, errs.First)
	}
}

// A broken problem folder is reported; the others are still read.
func TestReadSetBrokenProblem(t *testing.T) {
	dir := t.TempDir()
	write := func(path, text string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, path), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("good/prompt.py", "def f(x):\n")
	write("good/tests.py", "assert f(1) == 1\n")
	write("good/candidates/0.py", "    return x\n")
	write("no_tests/prompt.py", "def g(x):\n")
	write("empty_tests/prompt.py", "def h(x):\n")
	write("empty_tests/tests.py", "\n")
	write("no_entry/prompt.py", "# nothing\n")
	write("no_entry/tests.py", "assert True\n")
	var errs ErrorLog
	probs, cands, err := ReadSet(dir, errs.Add)
	if err != nil || len(probs) != 1 || probs[0].TaskID != "good" || len(cands) != 1 || errs.N != 3 {
		t.Fatalf("%d problems, %d candidates, %d errors (%v), %v", len(probs), len(cands), errs.N, errs.First, err)
	}
}
