package execrank

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/shareddata"
	"github.com/toppass/toppass/internal/workpool"
	"github.com/toppass/toppass/sandbox"
)

// TestHumanEvalExamplesHoldForCanonical reads the examples of HumanEval's
// original prompts (../shared/data, or $TOPPASS_DATA; skipped when
// absent) and runs each problem's canonical solution on them in the
// sandbox: the extractor must find examples in nearly every prompt, and
// nearly all it finds must hold for a correct program (a misread one
// fails for every candidate alike, but one that fails for the right
// program only would rank it down). The ones that fail are HumanEval's own
// wrong examples (HumanEval/47, /116, /148) and two misread outputs.
func TestHumanEvalExamplesHoldForCanonical(t *testing.T) {
	path := filepath.Join(shareddata.Dir(t), "humaneval", "humanevalplus.jsonl.gz")
	probs, order, err := dataset.ReadProblems(path, func(e *dataset.LineError) error { return e })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sb, err := sandbox.New(ctx, sandbox.Config{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	examples := make([][]string, len(order))
	held := make([][]bool, len(order))
	err = workpool.Each(ctx, len(order), 0, func(i int) error {
		p := probs[order[i]]
		examples[i] = ExtractExamples(p.Prompt, p.EntryPoint)
		code, zero := p.CanonicalSolution, 0
		r, err := Probe(ctx, sb, p, &dataset.Candidate{TaskID: p.TaskID, Index: &zero, Completion: &code}, examples[i], nil, 2*time.Second)
		if err == nil {
			held[i] = r.Held
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	withExamples, total, hold := 0, 0, 0
	for i, ex := range examples {
		if len(ex) > 0 {
			withExamples++
		}
		for k, e := range ex {
			total++
			if held[i][k] {
				hold++
			} else {
				t.Logf("%s: the canonical solution fails %s", order[i], e)
			}
		}
	}
	t.Logf("%d of %d problems state examples; %d examples, %d hold for the canonical solutions", withExamples, len(order), total, hold)
	if withExamples < 150 {
		t.Errorf("examples found in %d problems, want at least 150", withExamples)
	}
	if float64(hold) < 0.97*float64(total) {
		t.Errorf("%d of %d examples hold for the canonical solutions, want at least 97 %%", hold, total)
	}
}
