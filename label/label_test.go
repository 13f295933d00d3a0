package label

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
	// Labels made under another budget are not mixed in.
	cfg.Sandbox.Timeout = time.Second
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "budget of 2s") {
		t.Fatalf("another budget: %v", err)
	}
}

// The same candidates get the same labels, fuel included, on an idle
// machine and beside processes that keep every CPU busy: the budget is
// counted inside the sandbox, not read from a clock.
func TestLabelsIgnoreLoad(t *testing.T) {
	sb, err := sandbox.New(context.Background(), sandbox.Config{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	lb := &Labeler{SB: sb}
	probs, _, err := dataset.ReadProblems(sampleProblems, func(e *dataset.LineError) error { return e })
	if err != nil {
		t.Fatal(err)
	}
	var cands []*dataset.Candidate
	if err := dataset.ReadCandidates(sampleCandidates, func(c *dataset.Candidate) error {
		cands = append(cands, c)
		return nil
	}, func(e *dataset.LineError) error { return e }); err != nil {
		t.Fatal(err)
	}
	labelAllOf := func() []string {
		var out []string
		for _, c := range cands {
			l, err := lb.Label(context.Background(), probs[c.TaskID], c)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %d %.3f", describe(l), l.Fuel, l.CostMS))
		}
		return out
	}
	idle := labelAllOf()
	hogs := cpuHogs(t, 2*runtime.NumCPU())
	busy := labelAllOf()
	hogs()
	for i := range idle {
		if idle[i] != busy[i] {
			t.Errorf("%s #%d: idle %s, busy %s", cands[i].TaskID, *cands[i].Index, idle[i], busy[i])
		}
	}
}

// cpuHogs starts n processes that spin until the returned function is
// called: this test binary, re-run as a busy loop.
func cpuHogs(t *testing.T, n int) func() {
	t.Helper()
	var cmds []*exec.Cmd
	for range n {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSpin$")
		cmd.Env = append(os.Environ(), "TOPPASS_SPIN=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	return func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}
}

// TestHelperSpin is the CPU hog of cpuHogs; it does nothing in a normal run.
func TestHelperSpin(t *testing.T) {
	if os.Getenv("TOPPASS_SPIN") != "1" {
		t.Skip("a helper process for TestLabelsIgnoreLoad")
	}
	deadline := time.Now().Add(5 * time.Minute)
	x := 0
	for time.Now().Before(deadline) {
		for i := range 1 << 20 {
			x += i
		}
	}
	t.Log(x)
}

// Bad lines are reported with file:line; everything else is labelled.
// Labels are appended as they come: a compressed --out is refused before
// anything runs.
func TestRunRefusesGzipOut(t *testing.T) {
	out := filepath.Join(t.TempDir(), "labels.jsonl.gz")
	_, err := Run(context.Background(), RunConfig{Problems: sampleProblems, Candidates: "../testdata/sample/candidates.jsonl", Out: out})
	if err == nil || !strings.Contains(err.Error(), "not .gz") {
		t.Fatalf("err %v", err)
	}
	if _, serr := os.Stat(out); serr == nil {
		t.Errorf("%s was written", out)
	}
}

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
