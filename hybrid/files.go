package hybrid

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/execrank"
	"github.com/toppass/toppass/ranker"
)

// Group is one problem's candidates with their fusion features and labels.
type Group struct {
	TaskID string
	Keys   []dataset.Key
	X      [][]float64
	Passed []bool
}

// ReadGroups joins labels, neural scores (ranker.ScoreLine) and execution
// features (execrank.ScoreLine files; none for no execution evidence) by
// candidate, and computes the features per problem. Several execution files
// merge: the examples come from the first that has examples, the generated
// tests (agreement, cluster) from the first that has tests — so an
// examples-only run and a codet run of the same candidates combine.
// Candidates missing from any file are skipped; bad lines go to errs.
func ReadGroups(labelsPath, neuralPath string, execPaths []string, errs *dataset.ErrorLog) ([]*Group, error) {
	labels, _, err := dataset.ReadLabels(labelsPath, errs.Add)
	if err != nil {
		return nil, err
	}
	neural := map[dataset.Key]ranker.Prediction{}
	err = dataset.ReadLines(neuralPath, func(_ int, raw []byte) error {
		var l ranker.ScoreLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		if l.Prediction.PPass == 0 && l.Prediction.Score > 0 && l.Prediction.Score <= 1 {
			l.Prediction.PPass = l.Prediction.Score // written before p_pass was
		}
		neural[dataset.Key{TaskID: l.TaskID, Index: l.Index}] = l.Prediction
		return nil
	}, errs.Add)
	if err != nil {
		return nil, err
	}
	var exec map[dataset.Key]execrank.ScoreLine
	seen := map[dataset.Key]int{}
	for _, path := range execPaths {
		if exec == nil {
			exec = map[dataset.Key]execrank.ScoreLine{}
		}
		err = dataset.ReadLines(path, func(_ int, raw []byte) error {
			var l execrank.ScoreLine
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("invalid JSON: %w", err)
			}
			k := dataset.Key{TaskID: l.TaskID, Index: l.Index}
			seen[k]++
			cur, ok := exec[k]
			if !ok {
				exec[k] = l
				return nil
			}
			if cur.Examples == 0 && l.Examples > 0 {
				cur.Examples, cur.ExamplesPassed = l.Examples, l.ExamplesPassed
			}
			if cur.Inputs == 0 && l.Inputs > 0 {
				cur.Behaviour, cur.Inputs = l.Behaviour, l.Inputs
			}
			if cur.Tests == 0 && l.Tests > 0 {
				cur.Tests, cur.Passed, cur.Agreement, cur.Cluster = l.Tests, l.Passed, l.Agreement, l.Cluster
			}
			exec[k] = cur
			return nil
		}, errs.Add)
		if err != nil {
			return nil, err
		}
	}
	byTask := map[string][]dataset.Key{}
	for k := range labels {
		if _, ok := neural[k]; !ok {
			continue
		}
		if exec != nil && seen[k] != len(execPaths) {
			continue
		}
		byTask[k.TaskID] = append(byTask[k.TaskID], k)
	}
	var out []*Group
	for id, keys := range byTask {
		sort.Slice(keys, func(i, j int) bool { return keys[i].Index < keys[j].Index })
		g := &Group{TaskID: id, Keys: keys}
		preds := make([]ranker.Prediction, len(keys))
		var lines []execrank.ScoreLine
		for i, k := range keys {
			preds[i] = neural[k]
			g.Passed = append(g.Passed, labels[k].Passed)
			if exec != nil {
				lines = append(lines, exec[k])
			}
		}
		g.X = Features(preds, lines, nil)
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TaskID < out[j].TaskID })
	return out, nil
}
