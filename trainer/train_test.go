package trainer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/ranker"
)

// toyProblems: in each problem the two passing candidates add, the six
// failing ones subtract and are near-copies of each other, so the lexical
// consensus points at the wrong ones: the model must read the code.
func toyProblems() []*Problem {
	var probs []*Problem
	for p := 0; p < 4; p++ {
		pr := &Problem{TaskID: fmt.Sprintf("Toy/%d", p), Text: fmt.Sprintf("def f%d(a, b):\n    \"\"\"Return a plus b.\"\"\"\n", p)}
		for i := 0; i < 8; i++ {
			pass := i%4 == 1
			code := fmt.Sprintf("    c = %d\n    return a - b\n", i%2)
			l := &dataset.Label{TaskID: pr.TaskID, Index: i, Status: "fail", IntentError: "int_too_small", ErrorLine: 2}
			if pass {
				code = fmt.Sprintf("    total = a + b  # v%d\n    return total\n", i)
				l = &dataset.Label{TaskID: pr.TaskID, Index: i, Passed: true, Status: "pass"}
			}
			l.Passed = pass
			pr.Rows = append(pr.Rows, MakeRow(dataset.Key{TaskID: pr.TaskID, Index: i}, code, l))
		}
		probs = append(probs, pr)
	}
	return probs
}

func tinyOptions(dir string, steps int) Options {
	o := DefaultOptions
	o.ModelDir = dir
	o.Config = ranker.Presets["tiny"]
	o.Steps, o.GroupSize, o.Warmup, o.LR = steps, 8, 5, 3e-3
	o.ValEvery, o.CheckpointEvery, o.Patience = 1000, 10, 0
	return o
}

func TestTinyModelOverfits(t *testing.T) {
	probs := toyProblems()
	tok := TokenizerFor(probs, 300)
	for _, loss := range Losses {
		t.Run(loss, func(t *testing.T) {
			o := tinyOptions(t.TempDir(), 150)
			o.Loss.Loss = loss
			m, err := Train(context.Background(), backend(t), tok, o, probs, nil)
			if err != nil {
				t.Fatal(err)
			}
			Encode(m, probs)
			v, err := Validate(m, probs)
			if err != nil {
				t.Fatal(err)
			}
			if v < 99.9 {
				t.Errorf("ranked pass@1 on the training set %.1f, want 100", v)
			}
			preds, _ := m.Predict(probs[0].Group)
			for _, p := range preds {
				if math.IsNaN(p.Score) {
					t.Fatal("NaN score")
				}
			}
			if loss == "coderanker" { // the fault heads learnt the toy's fault
				if f := preds[0]; f.Fault != "int_too_small" || f.ErrorLine != 2 {
					t.Errorf("failing candidate predicted fault %q line %d, want int_too_small line 2", f.Fault, f.ErrorLine)
				}
			}
		})
	}
}

// TestResumeIsExact: a run paused at step 10 and resumed gives the same
// weights as one run straight to step 20, and the saved model scores the
// same after loading.
func TestResumeIsExact(t *testing.T) {
	probs := toyProblems()
	tok := TokenizerFor(probs, 300)
	be := backend(t)
	straight := tinyOptions(t.TempDir(), 20)
	a, err := Train(context.Background(), be, tok, straight, probs, nil)
	if err != nil {
		t.Fatal(err)
	}
	split := tinyOptions(t.TempDir(), 20)
	split.StopAt = 10
	if _, err := Train(context.Background(), be, tok, split, probs, nil); !errors.Is(err, ErrPaused) {
		t.Fatalf("want ErrPaused, got %v", err)
	}
	split.StopAt = 0
	b, err := Train(context.Background(), be, tok, split, probs, nil)
	if err != nil {
		t.Fatal(err)
	}
	Encode(a, probs)
	pa, _ := a.Predict(probs[0].Group)
	pb, _ := b.Predict(probs[0].Group)
	for i := range pa {
		if pa[i].Score != pb[i].Score {
			t.Fatalf("candidate %d: straight %v, resumed %v", i, pa[i].Score, pb[i].Score)
		}
	}
	// Reloading the saved model gives identical scores.
	c, err := ranker.Load(be, split.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	pc, _ := c.Predict(probs[0].Group)
	for i := range pa {
		if pc[i] != pb[i] {
			t.Fatalf("candidate %d: reloaded %+v, saved %+v", i, pc[i], pb[i])
		}
	}
	// metrics.jsonl has one line per step, none repeated.
	f, _ := os.Open(filepath.Join(split.ModelDir, "metrics.jsonl"))
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
	}
	if n != 20 {
		t.Errorf("metrics.jsonl has %d lines, want 20", n)
	}
}

// A checkpoint made on other data or options is not resumed silently (a
// changed recipe trained into an old folder would finish the old run);
// training longer, or a caller that allows it (the daemon), may resume.
func TestResumeRefusesOtherData(t *testing.T) {
	probs := toyProblems()
	tok := TokenizerFor(probs, 300)
	be := backend(t)
	opts := tinyOptions(t.TempDir(), 20)
	opts.StopAt = 5
	if _, err := Train(context.Background(), be, tok, opts, probs, nil); !errors.Is(err, ErrPaused) {
		t.Fatalf("want ErrPaused, got %v", err)
	}
	opts.StopAt = 0
	other := probs[1:]
	if _, err := Train(context.Background(), be, tok, opts, other, nil); err == nil || !strings.Contains(err.Error(), "other training data") {
		t.Fatalf("resumed on other problems: %v", err)
	}
	reseeded := opts
	reseeded.Seed++
	if _, err := Train(context.Background(), be, tok, reseeded, probs, nil); err == nil || !strings.Contains(err.Error(), "other training data") {
		t.Fatalf("resumed with another seed: %v", err)
	}
	relabelled := slices.Clone(probs)
	p0 := *probs[0]
	p0.Rows = slices.Clone(p0.Rows)
	l := *p0.Rows[0].Label
	l.Passed = !l.Passed
	p0.Rows[0].Label = &l
	relabelled[0] = &p0
	if Fingerprint(relabelled, nil, tok, opts) == Fingerprint(probs, nil, tok, opts) {
		t.Fatal("a changed label leaves the fingerprint as it was")
	}
	if _, err := Train(context.Background(), be, TokenizerFor(probs, 280), opts, probs, nil); err == nil || !strings.Contains(err.Error(), "other training data") {
		t.Fatalf("resumed with another tokenizer: %v", err)
	}
	longer := opts
	longer.Steps, longer.StopAt = 30, 10
	if _, err := Train(context.Background(), be, tok, longer, probs, nil); !errors.Is(err, ErrPaused) {
		t.Fatalf("training longer on the same data: want ErrPaused at step 10, got %v", err)
	}
	allowed := opts
	allowed.ResumeOnOtherData = true
	if _, err := Train(context.Background(), be, tok, allowed, other, nil); err != nil {
		t.Fatalf("ResumeOnOtherData: %v", err)
	}
}

// TestGradientsFinite: every loss gives finite gradients for every
// trainable variable, and they are not all zero (the loss reaches the model).
func TestGradientsFinite(t *testing.T) {
	probs := toyProblems()
	tok := TokenizerFor(probs, 300)
	be := backend(t)
	for _, loss := range Losses {
		m, err := ranker.New(be, ranker.Presets["tiny"], tok)
		if err != nil {
			t.Fatal(err)
		}
		Encode(m, probs)
		o := tinyOptions(t.TempDir(), 1)
		o.Loss.Loss = loss
		o.Loss.AuxWeight = 0.2
		grads, err := gradientNorms(be, m, o, probs[0], []int{0, 1, 2, 3, 4, 5, 6, 7})
		if err != nil {
			t.Fatal(err)
		}
		nonzero := 0
		for i, g := range grads {
			if math.IsNaN(g) || math.IsInf(g, 0) {
				t.Fatalf("%s: gradient %d is %v", loss, i, g)
			}
			if g > 0 {
				nonzero++
			}
		}
		if nonzero < len(grads)/2 {
			t.Errorf("%s: only %d of %d variables get a gradient", loss, nonzero, len(grads))
		}
	}
}

// With validation problems, training ends by fitting P(pass)'s calibration
// on them: saved with the model, it moves the probabilities toward the
// validation pass rate and leaves the ranking alone.
func TestTrainCalibratesOnValidation(t *testing.T) {
	probs := toyProblems()
	tok := TokenizerFor(probs, 300)
	dir := t.TempDir()
	o := tinyOptions(dir, 20)
	o.ValEvery = 10
	m, err := Train(context.Background(), backend(t), tok, o, probs[:3], probs[3:])
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config.Calibration
	if c == nil || !(c.A > 0) || c.Fit == "" {
		t.Fatalf("no calibration fit: %+v", c)
	}
	loaded, err := ranker.Load(backend(t), dir)
	if err != nil || loaded.Config.Calibration == nil || *loaded.Config.Calibration != *c {
		t.Fatalf("calibration not saved: %v %+v", err, loaded.Config.Calibration)
	}
	Encode(loaded, probs)
	preds, err := loaded.Predict(probs[3].Group)
	if err != nil {
		t.Fatal(err)
	}
	// The validation problem passes 2 of 8: calibrated P(pass) averages
	// near that; the ranking score is the uncalibrated one.
	var mean float64
	for _, p := range preds {
		mean += p.PPass
	}
	mean /= float64(len(preds))
	if math.Abs(mean-0.25) > 0.15 {
		t.Errorf("mean calibrated P(pass) %.3f on a problem passing 25 %%", mean)
	}
	loaded.Config.Calibration = nil
	raw, _ := loaded.Predict(probs[3].Group)
	for i := range preds {
		if preds[i].Score != raw[i].Score {
			t.Fatalf("calibration changed the ranking score: %v vs %v", preds[i].Score, raw[i].Score)
		}
	}
}
