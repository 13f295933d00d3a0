package trainer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/gomlx/gomlx/backends"
	"github.com/toppass/toppass/ranker"
)

// TokenizerFor trains the BPE tokenizer on the problems' texts and their
// candidates' code (each distinct text once).
func TokenizerFor(probs []*Problem, vocab int) *ranker.Tokenizer {
	return ranker.TrainTokenizer(tokenizerTexts(probs), vocab)
}

// TokenizerSource names what TokenizerFor(probs, vocab) learns from (a
// hash of its texts and the vocabulary size): a tokenizer kept beside a
// model is reused only for the same texts.
func TokenizerSource(probs []*Problem, vocab int) string {
	h := sha256.New()
	fmt.Fprintf(h, "vocab %d\n", vocab)
	for _, t := range tokenizerTexts(probs) {
		fmt.Fprintf(h, "%d\n%s", len(t), t)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// tokenizerTexts are the problems' texts and candidates' code, each once,
// sorted (the tokenizer does not depend on the order of the data).
func tokenizerTexts(probs []*Problem) []string {
	seen := map[string]bool{}
	var texts []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			texts = append(texts, s)
		}
	}
	for _, p := range probs {
		add(p.Text)
		for _, r := range p.Rows {
			add(r.Code)
		}
	}
	sort.Strings(texts)
	return texts
}

// SplitValidation holds out about frac of the task ids (by hash, so every
// set of a problem goes the same way) for validation.
func SplitValidation(probs []*Problem, frac float64) (train, val []*Problem) {
	if frac <= 0 {
		return probs, nil
	}
	k := max(2, int(1/frac+0.5))
	var ids []string
	for _, p := range probs {
		ids = append(ids, p.TaskID)
	}
	folds := Folds(ids, k)
	for _, p := range probs {
		if folds[p.TaskID] == 0 {
			val = append(val, p)
		} else {
			train = append(train, p)
		}
	}
	return train, val
}

// CVConfig is a problem-disjoint k-fold cross-validation.
type CVConfig struct {
	Sets     []Set // evaluated sets: folded by task id, scored on held-out folds
	Extra    []Set // training-only sets (never evaluated), e.g. LeetCode
	Folds    int
	Only     int // run only this fold (-1: all)
	Dir      string
	ValFrac  float64
	Options  Options
	Backends func() (backends.Backend, error)
}

// Score is one line of a scores file.
type Score struct {
	TaskID            string `json:"task_id"`
	Index             int    `json:"index"`
	Fold              int    `json:"fold"`
	ranker.Prediction        // score = P(pass), then the predicted fault
}

// CrossValidate trains one model per fold on the other folds' problems
// (all Sets) plus Extra, and scores the held-out fold's candidates of every
// Set: Dir/fold-N/ holds each model, Dir/fold-N/scores-S.jsonl the scores
// of set S. A fold whose scores exist is skipped (resume).
func CrossValidate(ctx context.Context, cfg CVConfig, sets, extra []*Problem, tok *ranker.Tokenizer) error {
	var ids []string
	for _, p := range sets {
		ids = append(ids, p.TaskID)
	}
	folds := Folds(ids, cfg.Folds)
	for f := 0; f < cfg.Folds; f++ {
		if cfg.Only >= 0 && f != cfg.Only {
			continue
		}
		dir := filepath.Join(cfg.Dir, fmt.Sprintf("fold-%d", f))
		done := filepath.Join(dir, "scores.done")
		if _, err := os.Stat(done); err == nil {
			slog.Info("fold already scored", "fold", f)
			continue
		}
		var train, test []*Problem
		for _, p := range sets {
			if folds[p.TaskID] == f {
				test = append(test, p)
			} else {
				train = append(train, p)
			}
		}
		tr, val := SplitValidation(train, cfg.ValFrac)
		tr = append(tr, extra...) // training only: never validated on
		slog.Info("fold", "fold", f, "train_groups", len(tr), "val_groups", len(val), "test_groups", len(test))
		be, err := cfg.Backends()
		if err != nil {
			return err
		}
		opts := cfg.Options
		opts.ModelDir = dir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		m, err := Train(ctx, be, tok, opts, tr, val)
		if err != nil {
			return fmt.Errorf("fold %d: %w", f, err)
		}
		Encode(m, test)
		files := map[int]*json.Encoder{}
		for _, p := range test {
			enc := files[p.Set]
			if enc == nil {
				fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("scores-%d.jsonl", p.Set)))
				if err != nil {
					return err
				}
				defer fh.Close()
				enc = json.NewEncoder(fh)
				files[p.Set] = enc
			}
			preds, err := m.Predict(p.Group)
			if err != nil {
				return err
			}
			for i, pr := range preds {
				if err := enc.Encode(Score{TaskID: p.TaskID, Index: p.Rows[i].Key.Index, Fold: f, Prediction: pr}); err != nil {
					return err
				}
			}
		}
		if err := os.WriteFile(done, []byte("ok\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}
