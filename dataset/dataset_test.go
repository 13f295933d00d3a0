package dataset

import (
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if strings.HasSuffix(name, ".gz") {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(f)
		zw.Write([]byte(content))
		zw.Close()
		f.Close()
		return p
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func collect(errs *[]string) func(*LineError) error {
	return func(e *LineError) error { *errs = append(*errs, e.Error()); return nil }
}

func TestReadProblemsKindsAndErrors(t *testing.T) {
	p := write(t, "p.jsonl.gz", `{"task_id": "a", "prompt": "def f():\n", "entry_point": "f", "test": "def check(candidate):\n    pass\n"}
{"task_id": "b", "test_list": ["assert g(1) == 1"]}
{"task_id": "c", "input_output": "{\"inputs\": [\"1\\n\"], \"outputs\": [\"2\\n\"]}"}
{"task_id": "d", "input_output": {"fn_name": "h", "inputs": [[1]], "outputs": [2]}}
{"task_id": "e", "public_tests": {"input": ["x"], "output": ["y"]}, "private_tests": {"input": ["z"], "output": ["w"]}}
{"task_id": "a", "test": "assert True"}
{"prompt": "no id"}
{"task_id": "f"}
{"task_id": "g", "input_output": {"inputs": [1, 2], "outputs": [1]}}
not json
`)
	var errs []string
	probs, order, err := ReadProblems(p, collect(&errs))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "a,b,c,d,e" {
		t.Fatalf("order %v", order)
	}
	kinds := map[string]Kind{"a": KindFunction, "b": KindFunction, "c": KindStdio, "d": KindCall, "e": KindStdio}
	for id, k := range kinds {
		if probs[id].Kind() != k {
			t.Errorf("%s: kind %s, want %s", id, probs[id].Kind(), k)
		}
	}
	if got := probs["e"].StdioTests(); len(got) != 2 || got[1].Input != "z" {
		t.Errorf("e tests %+v", got)
	}
	if got := probs["c"].StdioTests(); len(got) != 1 || got[0].Output != "2\n" {
		t.Errorf("c tests %+v", got)
	}
	want := []string{"p.jsonl.gz:6: duplicate task_id", "p.jsonl.gz:7: missing task_id", "p.jsonl.gz:8: no tests",
		"p.jsonl.gz:9: input_output: 2 inputs but 1 outputs", "p.jsonl.gz:10: invalid JSON"}
	if len(errs) != len(want) {
		t.Fatalf("errors %q", errs)
	}
	for i, w := range want {
		if !strings.Contains(errs[i], w) {
			t.Errorf("error %d = %q, want it to contain %q", i, errs[i], w)
		}
	}
}

func TestReadCandidatesIndexes(t *testing.T) {
	p := write(t, "c.jsonl", `{"task_id": "a", "completion": "x"}
{"task_id": "b", "solution": "y"}
{"task_id": "a", "completion": "z"}
{"task_id": "a", "index": 5, "code": "w"}
{"task_id": "a", "index": 5, "completion": "again"}
{"task_id": "a", "index": -1, "completion": "neg"}
{"task_id": "a"}
`)
	var errs []string
	var got []string
	err := ReadCandidates(p, func(c *Candidate) error {
		code, cont := c.Code()
		got = append(got, c.TaskID+"#"+itoa(*c.Index)+"="+code+map[bool]string{true: "+", false: ""}[cont])
		return nil
	}, collect(&errs))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "a#0=x+ b#0=y a#1=z+ a#5=w" {
		t.Errorf("got %v", got)
	}
	if len(errs) != 3 || !strings.Contains(errs[0], "c.jsonl:5: duplicate candidate a #5 (first on line 4)") ||
		!strings.Contains(errs[1], ":6: negative index") || !strings.Contains(errs[2], ":7: missing completion") {
		t.Errorf("errors %q", errs)
	}
}

func TestReadLabelsTornTail(t *testing.T) {
	whole := `{"task_id": "a", "index": 0, "passed": true, "status": "pass"}` + "\n"
	p := write(t, "l.jsonl", whole+`{"task_id": "a", "index": 1, "pas`)
	var errs []string
	labels, end, err := ReadLabels(p, collect(&errs))
	if err != nil || len(errs) != 0 {
		t.Fatal(err, errs)
	}
	if len(labels) != 1 || end != int64(len(whole)) {
		t.Fatalf("labels %d end %d", len(labels), end)
	}
	// A complete last line without its newline counts.
	p = write(t, "l2.jsonl", strings.TrimSuffix(whole, "\n"))
	labels, end, _ = ReadLabels(p, collect(&errs))
	if len(labels) != 1 || end != int64(len(whole)-1) {
		t.Fatalf("labels %d end %d", len(labels), end)
	}
	// A bad line in the middle is an error with its line number.
	p = write(t, "l3.jsonl", whole+"garbage\n"+whole)
	_, _, _ = ReadLabels(p, collect(&errs))
	if len(errs) != 1 || !strings.Contains(errs[0], "l3.jsonl:2:") {
		t.Fatalf("errors %q", errs)
	}
}

// A gzip-compressed labels file reads like a plain one, its last line
// without a newline too; a bad line still names file:line.
func TestReadLabelsGzip(t *testing.T) {
	a := `{"task_id": "a", "index": 0, "passed": true, "status": "pass"}`
	b := `{"task_id": "a", "index": 1, "passed": false, "status": "fail"}`
	p := write(t, "l.jsonl.gz", a+"\nnot json\n"+b)
	var errs []string
	labels, end, err := ReadLabels(p, collect(&errs))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if len(labels) != 2 || !labels[Key{"a", 0}].Passed || labels[Key{"a", 1}].Passed || end != st.Size() {
		t.Fatalf("labels %v end %d of %d", labels, end, st.Size())
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "l.jsonl.gz:2: invalid label") {
		t.Fatalf("errors %q", errs)
	}
	// Not gzip at all: an error naming the file, no panic.
	bad := filepath.Join(t.TempDir(), "x.jsonl.gz")
	os.WriteFile(bad, []byte(a+"\n"), 0o644)
	if _, _, err := ReadLabels(bad, collect(&errs)); err == nil || !strings.Contains(err.Error(), "x.jsonl.gz") {
		t.Fatalf("err %v", err)
	}
}

func TestLongLine(t *testing.T) {
	p := write(t, "big.jsonl", `{"task_id": "a", "completion": "`+strings.Repeat("x", maxLine+10)+`"}`+"\n"+`{"task_id": "b", "completion": "y"}`+"\n")
	var errs []string
	n := 0
	if err := ReadCandidates(p, func(*Candidate) error { n++; return nil }, collect(&errs)); err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(errs) != 1 || !strings.Contains(errs[0], "big.jsonl:1: line longer") {
		t.Fatalf("n=%d errs=%q", n, errs)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestCandidateSource(t *testing.T) {
	p := &Problem{Prompt: "import x\n\ndef f():\n"}
	comp, sol := "    return 1\n", "def f():\n    return 1\n"
	if src, line := (&Candidate{Completion: &comp}).Source(p); src != p.Prompt+comp || line != 4 {
		t.Errorf("completion: %q line %d", src, line)
	}
	if src, line := (&Candidate{Solution: &sol}).Source(p); src != sol || line != 1 {
		t.Errorf("solution: %q line %d", src, line)
	}
}

// Half is a fixed function of the task id (models trained on one half are
// measured on the other in later runs) and splits ids about evenly.
func TestHalf(t *testing.T) {
	n := [2]int{}
	for i := range 1000 {
		id := fmt.Sprintf("Task/%d", i)
		h := Half(id)
		if h != Half(id) || h < 0 || h > 1 {
			t.Fatalf("Half(%q) = %d, not stable in {0,1}", id, h)
		}
		n[h]++
	}
	if n[0] < 450 || n[1] < 450 {
		t.Errorf("halves of 1000 ids: %v, want about even", n)
	}
	// FNV-1a 32: "a" hashes to 0xe40c292c (even), "b" to 0xe70c2de5 (odd).
	if Half("a") != 0 || Half("b") != 1 {
		t.Errorf("Half(a), Half(b) = %d, %d; want 0, 1 (FNV-1a 32 mod 2)", Half("a"), Half("b"))
	}
}

// A recorded verdict becomes a label ("OK" passes); a candidate without one
// is an error naming its line.
func TestReferenceLabel(t *testing.T) {
	p := write(t, "c.jsonl", `{"task_id": "a", "completion": "x", "reference_status": "OK"}
{"task_id": "a", "completion": "y", "reference_status": "AssertionError"}
{"task_id": "a", "completion": "z"}
`)
	var got []string
	err := ReadCandidates(p, func(c *Candidate) error {
		l, err := ReferenceLabel(c)
		if err != nil {
			got = append(got, err.Error())
			return nil
		}
		got = append(got, fmt.Sprintf("%s#%d %v %s", l.TaskID, l.Index, l.Passed, l.Status))
		return nil
	}, func(e *LineError) error { return e })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "a#0 true pass" || got[1] != "a#1 false fail" || !strings.Contains(got[2], "c.jsonl:3: no reference_status") {
		t.Errorf("got %q", got)
	}
}
