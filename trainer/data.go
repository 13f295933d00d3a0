package trainer

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/ranker"
)

// Set names one labelled candidate set: problems, candidates, labels.
type Set struct {
	Problems, Candidates, Labels string
	// Keep, when set, says which problems to read (by task id); the
	// others' candidates are skipped before any analysis.
	Keep func(taskID string) bool
}

// ParseSet reads "problems.jsonl,candidates.jsonl,labels.jsonl".
func ParseSet(s string) (Set, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return Set{}, fmt.Errorf("--set %q: want problems,candidates,labels (or %q: the candidates' recorded verdicts)", s, dataset.ReferenceLabels)
	}
	return Set{Problems: parts[0], Candidates: parts[1], Labels: parts[2]}, nil
}

// Row is one labelled candidate.
type Row struct {
	Key     dataset.Key
	Code    string
	Static  ranker.Static
	Label   *dataset.Label
	Ternary int32
	Intent  int32
	Exec    int32
	Reward  float32
}

// Problem groups one candidate set's labelled candidates for one problem.
type Problem struct {
	TaskID string
	Set    int // index of the Set it came from
	Text   string
	Rows   []Row
	Group  *ranker.Group // filled by Encode
	// Weight is how often training draws this problem, relative to the
	// others (0 counts as 1).
	Weight float64
}

// Passes counts the passing rows.
func (p *Problem) Passes() int {
	n := 0
	for _, r := range p.Rows {
		if r.Label.Passed {
			n++
		}
	}
	return n
}

// LoadSets reads labelled candidate sets. Candidates without a label are
// skipped (counted in the log); bad lines go to errs with file:line.
// analyse, when not nil, adds each candidate's static analysis.
func LoadSets(ctx context.Context, sets []Set, analyse ranker.Analyse, errs *dataset.ErrorLog) ([]*Problem, error) {
	var out []*Problem
	for si, s := range sets {
		probs, _, err := dataset.ReadProblems(s.Problems, errs.Add)
		if err != nil {
			return nil, err
		}
		var labels map[dataset.Key]*dataset.Label
		if s.Labels != dataset.ReferenceLabels {
			if labels, _, err = dataset.ReadLabels(s.Labels, errs.Add); err != nil {
				return nil, err
			}
		}
		byTask := map[string]*Problem{}
		cands := map[string][]*dataset.Candidate{}
		unlabelled := 0
		err = dataset.ReadCandidates(s.Candidates, func(c *dataset.Candidate) error {
			p := probs[c.TaskID]
			if p == nil {
				return &dataset.LineError{File: c.File, Line: c.Line, Err: fmt.Errorf("unknown task_id %q", c.TaskID)}
			}
			if s.Keep != nil && !s.Keep(c.TaskID) {
				return nil
			}
			l := labels[c.Key()]
			if labels == nil {
				var rerr error
				if l, rerr = dataset.ReferenceLabel(c); rerr != nil {
					return rerr
				}
			}
			if l == nil {
				unlabelled++
				return nil
			}
			code, _ := c.Code()
			g := byTask[c.TaskID]
			if g == nil {
				g = &Problem{TaskID: c.TaskID, Set: si, Text: ranker.ProblemText(p)}
				byTask[c.TaskID] = g
				out = append(out, g)
			}
			g.Rows = append(g.Rows, MakeRow(c.Key(), code, l))
			cands[c.TaskID] = append(cands[c.TaskID], c)
			return nil
		}, errs.Add)
		if err != nil {
			return nil, err
		}
		if analyse != nil {
			t0 := time.Now()
			n := 0
			for id, g := range byTask {
				st, err := analyse(ctx, probs[id], cands[id])
				if err != nil {
					return nil, err
				}
				for i := range g.Rows {
					g.Rows[i].Static = st[i]
				}
				n += len(st)
			}
			slog.Info("static analysis", "set", s.Candidates, "candidates", n, "seconds", time.Since(t0).Seconds())
		}
		if unlabelled > 0 {
			slog.Warn("candidates without a label skipped", "set", s.Candidates, "count", unlabelled)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Set < out[j].Set })
	return out, nil
}

// MakeRow derives a row's targets from its label.
func MakeRow(k dataset.Key, code string, l *dataset.Label) Row {
	r := Row{Key: k, Code: code, Label: l}
	r.Intent = int32(ranker.ClassIndex(ranker.IntentClasses, l.IntentError))
	r.Exec = int32(ranker.ClassIndex(ranker.ExecClasses, l.ExecError))
	switch {
	case l.Passed:
		r.Ternary, r.Reward = 0, 3
	case l.ExecError == "" && l.Status == "fail":
		r.Ternary, r.Reward = 1, 2
	case l.ExecError == "SyntaxError" || l.ExecError == "FunctionNotFound":
		r.Ternary, r.Reward = 2, 0
	default:
		r.Ternary, r.Reward = 2, 1
	}
	if r.Ternary == 2 && r.Exec == 0 {
		r.Exec = int32(len(ranker.ExecClasses) - 1) // timeouts, memory, output limit without a class: "other"
	}
	return r
}

// Encode tokenises every problem's group for m.
func Encode(m *ranker.Model, probs []*Problem) {
	for _, p := range probs {
		codes := make([]string, len(p.Rows))
		statics := make([]ranker.Static, len(p.Rows))
		for i, r := range p.Rows {
			codes[i] = r.Code
			statics[i] = r.Static
		}
		p.Group = m.Encode(p.Text, codes, statics)
	}
}

// Folds splits task ids into k problem-disjoint folds of near-equal size,
// deterministically: ids are ordered by a hash of the id and dealt round
// robin, so every candidate set of a problem lands in the same fold and the
// split does not depend on file order.
func Folds(taskIDs []string, k int) map[string]int {
	ids := slices.Clone(taskIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	sort.SliceStable(ids, func(i, j int) bool { return fnv(ids[i]) < fnv(ids[j]) })
	out := make(map[string]int, len(ids))
	for i, id := range ids {
		out[id] = i % k
	}
	return out
}

func fnv(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
