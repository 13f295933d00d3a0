package label

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/sandbox"
)

const (
	sampleProblems   = "../testdata/sample/problems.jsonl"
	sampleCandidates = "../testdata/sample/candidates.jsonl"
)

var (
	sbOnce sync.Once
	sb     *sandbox.Sandbox
	sbErr  error
)

func labeler(t testing.TB) *Labeler {
	t.Helper()
	sbOnce.Do(func() { sb, sbErr = sandbox.New(context.Background(), sandbox.Config{Timeout: 2 * time.Second}) })
	if sbErr != nil {
		t.Fatal(sbErr)
	}
	return &Labeler{SB: sb}
}

// The shipped sample covers every problem shape; each candidate was
// written to get one particular label.
var sampleWant = map[string]string{
	"sample/digit_sum#0": "pass", "sample/digit_sum#1": "pass",
	"sample/digit_sum#2": "fail/int_too_large", "sample/digit_sum#3": "error/TypeError@1",
	"sample/digit_sum#4": "timeout/Timeout", "sample/digit_sum#5": "fail/none_returned",
	"sample/longest_word#0": "pass", "sample/longest_word#1": "error/ValueError@1",
	"sample/longest_word#2": "fail/other", "sample/longest_word#3": "fail/string_too_short",
	"sample/longest_word#4":    "fail/wrong_type",
	"sample/merge_intervals#0": "pass", "sample/merge_intervals#1": "fail/wrong_length",
	"sample/merge_intervals#2": "error/other@2", "sample/merge_intervals#3": "error/IndexError@1",
	"sample/count-pairs#0": "pass", "sample/count-pairs#1": "fail/int_too_large",
	"sample/count-pairs#2":   "error/FunctionNotFound",
	"sample/is_palindrome#0": "pass", "sample/is_palindrome#1": "fail/other",
	"sample/is_palindrome#2": "error/SyntaxError@1",
	"sample/sum-lines#0":     "pass", "sample/sum-lines#1": "pass",
	"sample/sum-lines#2": "fail/int_too_small", "sample/sum-lines#3": "error/EOFError@2",
	"sample/rotate#0": "pass", "sample/rotate#1": "fail/other",
}

func keyString(k dataset.Key) string { return k.TaskID + "#" + itoa(k.Index) }

func describe(l *dataset.Label) string {
	s := l.Status
	if c := l.ExecError + l.IntentError; c != "" {
		s += "/" + c
	}
	if l.ErrorLine > 0 {
		s += "@" + itoa(l.ErrorLine)
	}
	return s
}

func TestSampleLabels(t *testing.T) {
	lb := labeler(t)
	probs, _, err := dataset.ReadProblems(sampleProblems, func(e *dataset.LineError) error { return e })
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = dataset.ReadCandidates(sampleCandidates, func(c *dataset.Candidate) error {
		n++
		l, err := lb.Label(context.Background(), probs[c.TaskID], c)
		if err != nil {
			return err
		}
		if got, want := describe(l), sampleWant[keyString(c.Key())]; got != want {
			t.Errorf("%s #%d: got %s (%s: %s), want %s", c.TaskID, *c.Index, got, l.Exception, l.Message, want)
		}
		return nil
	}, func(e *dataset.LineError) error { return e })
	if err != nil {
		t.Fatal(err)
	}
	if n != len(sampleWant) {
		t.Fatalf("labelled %d candidates, want %d", n, len(sampleWant))
	}
}

func TestCompareOutput(t *testing.T) {
	cases := []struct {
		got, want string
		ok        bool
		intent    string
	}{
		{"6\n2.00\n", "6\n2.00\n", true, ""},
		{"6 2.00", "6\n2.00\n", true, ""},
		{"6\r\n2.0000001\r\n", "6\n2.00\n", true, ""},
		{"6\n2.1\n", "6\n2.00\n", false, "int_too_large"},
		{"", "6\n", false, "empty"},
		{"6\n", "6\n2\n", false, "wrong_length"},
		{"abc\n", "abcd\n", false, "string_too_short"},
		{"YES\n", "NO\n", false, "string_too_long"},
		{"x\n", "5\n", false, "wrong_type"},
		{"1.0\n", "1\n", false, "wrong_type"},
	}
	for _, c := range cases {
		ok, intent := CompareOutput(c.got, c.want)
		if ok != c.ok || intent != c.intent {
			t.Errorf("CompareOutput(%q, %q) = %v %q, want %v %q", c.got, c.want, ok, intent, c.ok, c.intent)
		}
	}
}

func TestAssertEntry(t *testing.T) {
	if got := assertEntry([]string{"assert is_palindrome('a') == True"}); got != "is_palindrome" {
		t.Errorf("got %q", got)
	}
	if got := assertEntry([]string{"assert set(similar(1, 2)) == {1}"}); got != "" {
		t.Errorf("got %q", got)
	}
}

func readLabels(t *testing.T, path string) []dataset.Label {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []dataset.Label
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l dataset.Label
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// A killed run leaves a torn last line; running again cuts it, keeps the
// rest and labels only what is missing.
func TestRunResumes(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "labels.jsonl")
	cfg := RunConfig{Problems: sampleProblems, Candidates: sampleCandidates, Out: out, Workers: 2,
		Sandbox: sandbox.Config{Timeout: 2 * time.Second}}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Labelled != len(sampleWant) || sum.Resumed != 0 {
		t.Fatalf("first run: %+v", sum)
	}
	full := readLabels(t, out)
	// Keep 10 whole lines and half of the 11th.
	data, _ := os.ReadFile(out)
	lines := strings.SplitAfter(string(data), "\n")
	torn := strings.Join(lines[:10], "") + lines[10][:len(lines[10])/2]
	if err := os.WriteFile(out, []byte(torn), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resumed != 10 || sum.Labelled != len(sampleWant)-10 {
		t.Fatalf("resumed run: %+v", sum)
	}
	got := readLabels(t, out)
	if len(got) != len(full) {
		t.Fatalf("%d labels after resume, want %d", len(got), len(full))
	}
	seen := map[string]string{}
	for i := range got {
		seen[keyString(got[i].Key())] = describe(&got[i])
	}
	for k, want := range sampleWant {
		if seen[k] != want {
			t.Errorf("%v: %q after resume, want %q", k, seen[k], want)
		}
	}
	// A third run has nothing to do.
	sum, err = Run(context.Background(), cfg)
	if err != nil || sum.Labelled != 0 || sum.Resumed != len(sampleWant) {
		t.Fatalf("third run: %+v %v", sum, err)
	}
}

// Bad lines are reported with file:line; everything else is labelled.
func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	cands := filepath.Join(dir, "cands.jsonl")
	content := `{"task_id": "sample/digit_sum", "completion": "    return sum(map(int, str(n)))\n"}
{"task_id": "sample/digit_sum", "completion": 
{"task_id": "no/such/task", "completion": "x"}

{"task_id": "sample/rotate", "index": 7, "solution": "def rotate(xs, k):\n    return xs\n"}
["not", "an", "object"]
`
	if err := os.WriteFile(cands, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "labels.jsonl")
	sum, err := Run(context.Background(), RunConfig{Problems: sampleProblems, Candidates: cands, Out: out})
	if !errors.Is(err, ErrInput) {
		t.Fatalf("want ErrInput, got %v", err)
	}
	if sum.Labelled != 2 || sum.InputErrors != 3 {
		t.Fatalf("summary %+v", sum)
	}
	var where []string
	for _, e := range sum.Errors {
		where = append(where, e.Error())
	}
	all := strings.Join(where, "\n")
	for _, w := range []string{"cands.jsonl:2:", "cands.jsonl:3: unknown task_id", "cands.jsonl:6:"} {
		if !strings.Contains(all, w) {
			t.Errorf("errors lack %q:\n%s", w, all)
		}
	}
	labels := readLabels(t, out)
	if len(labels) != 2 {
		t.Fatalf("%d labels", len(labels))
	}
}
