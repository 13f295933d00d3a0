package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/toppass/toppass/dataset"
)

// Score is a ranker's score for one candidate.
type Score struct {
	TaskID string  `json:"task_id"`
	Index  int     `json:"index"`
	Score  float64 `json:"score"`
}

// Row is one dataset's figures (percentages).
type Row struct {
	Dataset    string             `json:"dataset"`
	Problems   int                `json:"problems"`
	Candidates int                `json:"candidates"`
	Random     map[string]float64 `json:"random_pass_at_k"`
	Ranked     map[string]float64 `json:"ranked_pass_at_k,omitempty"`
	Oracle     float64            `json:"oracle"`
	RandomExec map[string]float64 `json:"random_exec_at_k"`
	RankedExec map[string]float64 `json:"ranked_exec_at_k,omitempty"`
	Unscored   int                `json:"unscored,omitempty"`
}

// Report is what `toppass eval` prints and writes.
type Report struct {
	K    []int `json:"k"`
	Rows []Row `json:"rows"`
}

// DatasetOf names a task's dataset: the part of its id before the last
// "/" ("HumanEval/12" → "HumanEval"), or "all".
func DatasetOf(taskID string) string {
	if i := strings.LastIndexByte(taskID, '/'); i > 0 {
		return taskID[:i]
	}
	return "all"
}

// Evaluate computes the report. scores may be nil (random figures only);
// a candidate without a score ranks below every scored one.
func Evaluate(labels []*dataset.Label, scores map[dataset.Key]float64, ks []int) *Report {
	byTask := map[string][]*dataset.Label{}
	for _, l := range labels {
		byTask[l.TaskID] = append(byTask[l.TaskID], l)
	}
	byDS := map[string][]string{}
	for id := range byTask {
		ds := DatasetOf(id)
		byDS[ds] = append(byDS[ds], id)
	}
	names := make([]string, 0, len(byDS))
	for ds := range byDS {
		names = append(names, ds)
	}
	sort.Strings(names)
	if len(names) > 1 {
		all := []string{}
		for id := range byTask {
			all = append(all, id)
		}
		byDS["all"] = all
		names = append(names, "all")
	}
	rep := &Report{K: ks}
	for _, ds := range names {
		row := Row{Dataset: ds, Problems: len(byDS[ds]), Random: map[string]float64{}, RandomExec: map[string]float64{}}
		if scores != nil {
			row.Ranked, row.RankedExec = map[string]float64{}, map[string]float64{}
		}
		for _, id := range byDS[ds] {
			ls := byTask[id]
			row.Candidates += len(ls)
			pass, exec := 0, 0
			sp := make([]Scored, len(ls))
			se := make([]Scored, len(ls))
			for i, l := range ls {
				ran := l.Status == "pass" || l.Status == "fail"
				if l.Passed {
					pass++
				}
				if ran {
					exec++
				}
				sc, ok := scores[l.Key()]
				if !ok {
					sc = negInf
					if scores != nil {
						row.Unscored++
					}
				}
				sp[i], se[i] = Scored{sc, l.Passed}, Scored{sc, ran}
			}
			row.Oracle += Oracle(sp)
			for _, k := range ks {
				key := fmt.Sprint(k)
				row.Random[key] += PassAtK(len(ls), pass, k)
				row.RandomExec[key] += PassAtK(len(ls), exec, k)
				if scores != nil {
					row.Ranked[key] += RankedPassAtK(sp, k)
					row.RankedExec[key] += RankedPassAtK(se, k)
				}
			}
		}
		n := float64(row.Problems)
		row.Oracle = Round2(100 * row.Oracle / n)
		for _, m := range []map[string]float64{row.Random, row.RandomExec, row.Ranked, row.RankedExec} {
			for k := range m {
				m[k] = Round2(100 * m[k] / n)
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep
}

var negInf = -1e308

// Print writes the report as a table.
func (r *Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "dataset\tproblems\tcandidates\t")
	for _, k := range r.K {
		fmt.Fprintf(tw, "random@%d\t", k)
	}
	ranked := len(r.Rows) > 0 && r.Rows[0].Ranked != nil
	if ranked {
		for _, k := range r.K {
			fmt.Fprintf(tw, "ranked@%d\t", k)
		}
		fmt.Fprintf(tw, "ranked exec@1\t")
	}
	fmt.Fprintln(tw, "oracle\t")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t", row.Dataset, row.Problems, row.Candidates)
		for _, k := range r.K {
			fmt.Fprintf(tw, "%.2f\t", row.Random[fmt.Sprint(k)])
		}
		if ranked {
			for _, k := range r.K {
				fmt.Fprintf(tw, "%.2f\t", row.Ranked[fmt.Sprint(k)])
			}
			fmt.Fprintf(tw, "%.2f\t", row.RankedExec["1"])
		}
		fmt.Fprintf(tw, "%.2f\t\n", row.Oracle)
	}
	tw.Flush()
}

// ReadScores reads a scores JSONL file ({"task_id", "index", "score"}).
func ReadScores(path string, onErr func(*dataset.LineError) error) (map[dataset.Key]float64, error) {
	out := map[dataset.Key]float64{}
	err := dataset.ReadLines(path, func(_ int, raw []byte) error {
		var s struct {
			TaskID string   `json:"task_id"`
			Index  *int     `json:"index"`
			Score  *float64 `json:"score"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		if s.TaskID == "" || s.Index == nil || s.Score == nil {
			return errors.New("need task_id, index and score")
		}
		out[dataset.Key{TaskID: s.TaskID, Index: *s.Index}] = *s.Score
		return nil
	}, onErr)
	return out, err
}
