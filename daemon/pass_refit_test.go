package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toppass/toppass/daemon"
	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/hybrid"
)

// A generator whose candidates the evidence separates better than the
// shipped P(pass) assumes: example-free prompts, two candidates of three
// right, the wrong one behaving differently. Once the set is labelled the
// daemon refits P(pass) to it, keeps the refit (it predicts held-out
// problems better), serves it — a ranking's P(pass) is the refit's reading
// of that ranking's own evidence — and loads it again after a restart.
func TestDaemonPassRefit(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the daemon end-to-end test builds and runs the binary")
	}
	e := newEnv(t, "workers = 2\ntimeout = \"1s\"\ndebounce = \"100ms\"\n\n[finetune]\nmin_new_problems = 1000\n\n"+
		"[pass_refit]\nmin_new_problems = 10\n\n[dashboard]\nport = 0\nmethods = []\n")
	dir := filepath.Join(e.root, "strong")
	problems := writeStrongSet(t, dir, 24)
	e.start()
	if out, code := e.cli("watch", dir); code != 0 {
		t.Fatalf("watch: %s", out)
	}
	e.waitFor("the P(pass) refit", 15*time.Minute, ended("calibrate"))
	st := e.status()
	if !strings.Contains(st.PPass, "refit on 24 labelled problems") {
		t.Fatalf("P(pass) in use after the refit: %q (jobs %+v, errors %v)", st.PPass, st.Jobs, st.Errors)
	}
	if out, _ := e.cli("status"); !strings.Contains(out, "P(pass) the shipped P(pass) refit on 24 labelled problems") {
		t.Errorf("toppass status does not say which P(pass) is in use:\n%s", out)
	}
	// The dashboard's model page says so too.
	d := e.dashboard()
	if code, body, _ := d.do("GET", "/model", nil, d.cookie); code != 200 || !strings.Contains(body, "In use: the shipped P(pass) refit on 24") ||
		!strings.Contains(body, `<span class="ok">accepted</span> — held-out log-loss`) {
		t.Errorf("model page %d lacks the refit:\n%s", code, body)
	}
	refit, err := hybrid.Load(e.paths.PassRefit())
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := hybrid.Calibration()
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		p := problems[len(problems)-1]
		var cands []*dataset.Candidate
		for _, code := range strongCandidates(len(problems) - 1) {
			c := code + "\n# " + when // not a cached ranking
			cands = append(cands, &dataset.Candidate{Completion: &c})
		}
		var r daemon.RankResult
		if err := e.client().Call(context.Background(), daemon.MethodRank, daemon.RankParams{Problem: p, Candidates: cands}, &r); err != nil {
			t.Fatal(err)
		}
		// Learnt from this generator: every candidate moves the right way
		// — the right ones (0, 1) up, the wrong one (2) down — and the
		// lowest right candidate stands further above the wrong one than
		// with the shipped model. (Two parameters over the shipped logit
		// keep its order: a right candidate the shipped model placed near
		// the wrong one moves less than the others.)
		lowRight, lowRightWas := 1.0, 1.0
		var wrong, wrongWas float64
		for _, c := range r.Ranked {
			if len(c.Features) != len(hybrid.FeatureNames) {
				t.Fatalf("%s: a ranking without its features: %+v", when, c)
			}
			if want := refit.PPass(c.Features); math.Abs(c.PPass-want) > 1e-9 {
				t.Errorf("%s: #%d P(pass) %.4f, the refit says %.4f", when, c.Index, c.PPass, want)
			}
			was := shipped.PPass(c.Features)
			if right := c.Index < 2; right && !(c.PPass > was) || !right && !(c.PPass < was) {
				t.Errorf("%s: #%d P(pass) %.3f with the refit, %.3f with the shipped model", when, c.Index, c.PPass, was)
			}
			if c.Index < 2 {
				lowRight, lowRightWas = min(lowRight, c.PPass), min(lowRightWas, was)
			} else {
				wrong, wrongWas = c.PPass, was
			}
		}
		if gap, gapWas := lowRight-wrong, lowRightWas-wrongWas; !(gap > gapWas+0.2) {
			t.Errorf("%s: right over wrong by %.3f with the refit, %.3f with the shipped model", when, gap, gapWas)
		}
	}
	check("after the refit")

	// What the refit did is kept in the store.
	e.cli("stop")
	e.proc.Wait()
	s := openStore(t, e)
	raw, _ := s.Meta(context.Background(), "pass_refit")
	s.Close()
	var rec struct {
		Accepted    bool    `json:"accepted"`
		Problems    int     `json:"problems"`
		ValProblems int     `json:"val_problems"`
		Shipped     float64 `json:"val_log_loss_shipped"`
		Refit       float64 `json:"val_log_loss_refit"`
	}
	if err := json.Unmarshal([]byte(raw), &rec); err != nil || !rec.Accepted || rec.Problems != 24 || rec.ValProblems == 0 || !(rec.Refit < rec.Shipped) {
		t.Fatalf("refit record %s (%v)", raw, err)
	}
	t.Logf("refit record: %s", raw)

	// A restart serves the refit again.
	e.start()
	if st := e.status(); st.PPass != refit.Note {
		t.Fatalf("after a restart P(pass) is %q, want %q", st.PPass, refit.Note)
	}
	check("after a restart")
}

// writeStrongSet writes n example-free problems (add k to x), two right
// candidates and one wrong for each, as a JSONL set in dir.
func writeStrongSet(t *testing.T, dir string, n int) []*dataset.Problem {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var probs, cands strings.Builder
	var out []*dataset.Problem
	for k := range n {
		name := fmt.Sprintf("shift_%d", k)
		p := &dataset.Problem{TaskID: "strong/" + name, EntryPoint: name,
			Prompt: fmt.Sprintf("def %s(x: int) -> int:\n    \"\"\"Return x plus %d.\"\"\"\n", name, k+2),
			Test:   fmt.Sprintf("def check(candidate):\n    assert candidate(0) == %d\n    assert candidate(5) == %d\n    assert candidate(-3) == %d\n", k+2, k+7, k-1)}
		b, _ := json.Marshal(p)
		probs.Write(b)
		probs.WriteByte('\n')
		for _, code := range strongCandidates(k) {
			b, _ := json.Marshal(map[string]string{"task_id": p.TaskID, "completion": code})
			cands.Write(b)
			cands.WriteByte('\n')
		}
		out = append(out, p)
	}
	os.WriteFile(filepath.Join(dir, "problems.jsonl"), []byte(probs.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "candidates.jsonl"), []byte(cands.String()), 0o644)
	return out
}

// strongCandidates are two right bodies for "add k+2" and one off by one.
func strongCandidates(k int) []string {
	return []string{
		fmt.Sprintf("    return x + %d\n", k+2),
		fmt.Sprintf("    y = x\n    y += %d\n    return y\n", k+2),
		fmt.Sprintf("    return x + %d\n", k+1),
	}
}
