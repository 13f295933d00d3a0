package trainer

import (
	"encoding/json"
	"io"
	"sort"

	"github.com/toppass/toppass/dataset"
)

// RRTFResponse is one response of a prompt in the preference data.
type RRTFResponse struct {
	Index      int      `json:"index"`
	Completion string   `json:"completion"`
	Reward     float32  `json:"reward"` // 3 pass, 2 wrong answer, 1 runtime error, 0 no program (syntax, missing function)
	Passed     bool     `json:"passed"`
	Status     string   `json:"status"`
	Score      *float64 `json:"score,omitempty"` // the ranker's, when scores are given
}

// RRTFRecord is one prompt with its responses ranked best first, the
// ranked-response data PanGu-Coder2's RRTF aligns a generator with.
type RRTFRecord struct {
	TaskID    string         `json:"task_id"`
	Prompt    string         `json:"prompt"`
	Responses []RRTFResponse `json:"responses"`
}

// ExportRRTF writes one RRTFRecord per problem: responses ordered by reward
// (from the labels), then by the ranker's score when scores is not nil,
// then by index.
func ExportRRTF(probs []*Problem, prompts map[string]string, scores map[dataset.Key]float64, w io.Writer) (int, error) {
	enc := json.NewEncoder(w)
	n := 0
	for _, p := range probs {
		rec := RRTFRecord{TaskID: p.TaskID, Prompt: prompts[p.TaskID]}
		for _, r := range p.Rows {
			resp := RRTFResponse{Index: r.Key.Index, Completion: r.Code, Reward: r.Reward, Passed: r.Label.Passed, Status: r.Label.Status}
			if s, ok := scores[r.Key]; ok {
				resp.Score = &s
			}
			rec.Responses = append(rec.Responses, resp)
		}
		sort.SliceStable(rec.Responses, func(i, j int) bool {
			a, b := rec.Responses[i], rec.Responses[j]
			if a.Reward != b.Reward {
				return a.Reward > b.Reward
			}
			if a.Score != nil && b.Score != nil && *a.Score != *b.Score {
				return *a.Score > *b.Score
			}
			return a.Index < b.Index
		})
		if err := enc.Encode(rec); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
