package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Candidate is one generated solution.
type Candidate struct {
	TaskID string `json:"task_id"`
	// Index numbers the candidates of a task; when absent it is the
	// candidate's position among its task's candidates in the file.
	Index *int `json:"index,omitempty"`
	// Completion continues the problem's prompt (HumanEval, LeetCode).
	Completion *string `json:"completion,omitempty"`
	// Solution is a whole program, run without the prompt (APPS).
	Solution *string `json:"solution,omitempty"`
	// Model names the generator that wrote it (when the data says).
	Model string `json:"model,omitempty"`
	// ReferenceStatus is a verdict recorded elsewhere, kept for comparison.
	ReferenceStatus string `json:"reference_status,omitempty"`

	File string `json:"-"`
	Line int    `json:"-"`
}

// Key identifies a candidate.
type Key struct {
	TaskID string
	Index  int
}

// Key returns the candidate's key (Index must be set).
func (c *Candidate) Key() Key { return Key{c.TaskID, *c.Index} }

// Code returns the candidate's text and whether it continues the prompt.
func (c *Candidate) Code() (code string, continuesPrompt bool) {
	if c.Completion != nil {
		return *c.Completion, true
	}
	return *c.Solution, false
}

// Source is the program text to run for problem p: the prompt followed by
// the completion, or the solution alone. candLine is the 1-based line of
// source where the candidate's own text starts.
func (c *Candidate) Source(p *Problem) (source string, candLine int) {
	code, cont := c.Code()
	if !cont {
		return code, 1
	}
	return p.Prompt + code, strings.Count(p.Prompt, "\n") + 1
}

// ParseCandidate decodes one candidate record.
func ParseCandidate(raw []byte) (*Candidate, error) {
	var c Candidate
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if c.TaskID == "" {
		return nil, errors.New("missing task_id")
	}
	if c.Completion == nil && c.Solution == nil {
		var alt struct {
			Code *string `json:"code"`
		}
		_ = json.Unmarshal(raw, &alt)
		if alt.Code == nil {
			return nil, errors.New("missing completion (or solution/code)")
		}
		c.Solution = alt.Code
	}
	if c.Index != nil && *c.Index < 0 {
		return nil, fmt.Errorf("negative index %d", *c.Index)
	}
	return &c, nil
}

// ReadCandidates streams a candidates file to fn, assigning missing
// indexes by position within each task. Bad lines go to onErr.
func ReadCandidates(path string, fn func(*Candidate) error, onErr func(*LineError) error) error {
	next := map[string]int{}
	seen := map[Key]int{}
	return ReadLines(path, func(line int, raw []byte) error {
		c, err := ParseCandidate(raw)
		if err != nil {
			return err
		}
		if c.Index == nil {
			i := next[c.TaskID]
			c.Index = &i
		}
		next[c.TaskID] = max(next[c.TaskID], *c.Index+1)
		if prev, dup := seen[c.Key()]; dup {
			return fmt.Errorf("duplicate candidate %s #%d (first on line %d)", c.TaskID, *c.Index, prev)
		}
		seen[c.Key()] = line
		c.File, c.Line = path, line
		return fn(c)
	}, onErr)
}
