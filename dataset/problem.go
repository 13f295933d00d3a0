package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Kind is how a problem's tests run.
type Kind string

const (
	// KindFunction: a function tested by check(candidate) or plain asserts
	// (HumanEval, HumanEval+, MBPP, LeetCode's Solution().method).
	KindFunction Kind = "function"
	// KindStdio: a program judged on its standard output for given standard
	// inputs (APPS, CodeContests).
	KindStdio Kind = "stdio"
	// KindCall: a function called with argument lists, results compared
	// with expected values (APPS call-based problems, fn_name).
	KindCall Kind = "call"
)

// Problem is one task. The fields are the union of the benchmark shapes
// toppass reads; unknown fields are ignored.
type Problem struct {
	TaskID string `json:"task_id"`
	// Prompt is the text a candidate's completion continues: a function
	// signature and docstring (HumanEval), imports and helpers (LeetCode).
	Prompt            string `json:"prompt"`
	EntryPoint        string `json:"entry_point"`
	Test              string `json:"test"`
	CanonicalSolution string `json:"canonical_solution"`

	// MBPP-style plain asserts.
	TestList      []string `json:"test_list,omitempty"`
	TestSetupCode string   `json:"test_setup_code,omitempty"`

	// HumanEval+ inputs; expected outputs come from the canonical solution.
	BaseInput json.RawMessage `json:"base_input,omitempty"`
	PlusInput json.RawMessage `json:"plus_input,omitempty"`
	Atol      float64         `json:"atol,omitempty"`

	// APPS: input_output is a JSON object or a string holding one, with
	// inputs, outputs and, for call-based problems, fn_name.
	InputOutput json.RawMessage `json:"input_output,omitempty"`
	// CodeContests-style public/private/generated tests.
	PublicTests    *IOTests `json:"public_tests,omitempty"`
	PrivateTests   *IOTests `json:"private_tests,omitempty"`
	GeneratedTests *IOTests `json:"generated_tests,omitempty"`
	// Tests is a generic list of stdin/stdout cases.
	Tests []IOCase `json:"tests,omitempty"`

	// Statement text, when the prompt is not it (LeetCode query, APPS
	// question, CodeContests description).
	Query       string `json:"query,omitempty"`
	Question    string `json:"question,omitempty"`
	Description string `json:"description,omitempty"`

	io *appsIO
}

// IOTests is CodeContests' test list shape.
type IOTests struct {
	Input  []string `json:"input"`
	Output []string `json:"output"`
}

// IOCase is one stdin/stdout test.
type IOCase struct {
	Input  string `json:"input"`
	Output string `json:"output"`
}

type appsIO struct {
	Inputs  []json.RawMessage `json:"inputs"`
	Outputs []json.RawMessage `json:"outputs"`
	FnName  string            `json:"fn_name"`
}

// ParseProblem decodes and checks one problem record.
func ParseProblem(raw []byte) (*Problem, error) {
	var p Problem
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if p.TaskID == "" {
		return nil, errors.New("missing task_id")
	}
	if len(p.InputOutput) > 0 && string(p.InputOutput) != "null" {
		io, err := parseAppsIO(p.InputOutput)
		if err != nil {
			return nil, fmt.Errorf("input_output: %w", err)
		}
		p.io = io
	}
	switch p.Kind() {
	case KindFunction:
		if p.EntryPoint == "" && p.Test != "" && strings.Contains(p.Test, "check(") {
			return nil, errors.New("missing entry_point")
		}
	case KindCall:
	case KindStdio:
		if len(p.StdioTests()) == 0 {
			return nil, errors.New("no tests: need test, test_list, input_output, tests or public_tests")
		}
	}
	return &p, nil
}

func parseAppsIO(raw json.RawMessage) (*appsIO, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		raw = json.RawMessage(s)
	}
	var list []IOCase
	if json.Unmarshal(raw, &list) == nil {
		// LeetCode's examples ({input, output} strings for a function call)
		// are documentation, not runnable tests.
		return nil, nil
	}
	var io appsIO
	if err := json.Unmarshal(raw, &io); err != nil {
		return nil, err
	}
	if len(io.Inputs) != len(io.Outputs) {
		return nil, fmt.Errorf("%d inputs but %d outputs", len(io.Inputs), len(io.Outputs))
	}
	return &io, nil
}

// Kind says how the problem's tests run.
func (p *Problem) Kind() Kind {
	switch {
	case p.Test != "" || len(p.TestList) > 0 || len(p.PlusInput) > 0:
		return KindFunction
	case p.io != nil && p.io.FnName != "":
		return KindCall
	case p.EntryPoint != "" && len(p.StdioTests()) == 0:
		// A function whose tests are not known (a user's own, in an
		// editor): ranked by its prompt's examples, never labelled.
		return KindFunction
	default:
		return KindStdio
	}
}

// StdioTests returns the stdin/stdout cases: APPS input_output first, then
// tests, then CodeContests public, private and generated tests.
func (p *Problem) StdioTests() []IOCase {
	var out []IOCase
	if p.io != nil && p.io.FnName == "" {
		for i := range p.io.Inputs {
			out = append(out, IOCase{Input: rawText(p.io.Inputs[i]), Output: rawText(p.io.Outputs[i])})
		}
	}
	out = append(out, p.Tests...)
	for _, t := range []*IOTests{p.PublicTests, p.PrivateTests, p.GeneratedTests} {
		if t == nil {
			continue
		}
		for i := range min(len(t.Input), len(t.Output)) {
			out = append(out, IOCase{Input: t.Input[i], Output: t.Output[i]})
		}
	}
	return out
}

// CallTests returns APPS call-based inputs (argument lists) and outputs.
func (p *Problem) CallTests() (fn string, inputs, outputs []json.RawMessage) {
	if p.io == nil {
		return "", nil, nil
	}
	return p.io.FnName, p.io.Inputs, p.io.Outputs
}

// rawText turns a JSON value into stdin text: a string as is, a list of
// strings joined by newlines (APPS stores some that way).
func rawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, "\n")
	}
	return string(raw)
}

// Statement returns the natural-language text of the problem.
func (p *Problem) Statement() string {
	for _, s := range []string{p.Query, p.Question, p.Description, p.Prompt} {
		if s != "" {
			return s
		}
	}
	return ""
}

// ReadProblems reads a problems file into a map by task_id. Bad lines are
// passed to onErr (with file:line) and skipped; a duplicate task_id is an
// error too.
func ReadProblems(path string, onErr func(*LineError) error) (map[string]*Problem, []string, error) {
	probs := map[string]*Problem{}
	var order []string
	err := ReadLines(path, func(line int, raw []byte) error {
		p, err := ParseProblem(raw)
		if err != nil {
			return err
		}
		if _, dup := probs[p.TaskID]; dup {
			return fmt.Errorf("duplicate task_id %q", p.TaskID)
		}
		probs[p.TaskID] = p
		order = append(order, p.TaskID)
		return nil
	}, onErr)
	return probs, order, err
}

// Half splits problems in two by an FNV-1a hash of the task id: 0 or 1.
// Every set of a problem falls in the same half, so a model trained on one
// half's problems (toppass train --half) can be measured on the other's
// (toppass generalization --cross-fit).
func Half(taskID string) int {
	var h uint32 = 2166136261
	for i := 0; i < len(taskID); i++ {
		h ^= uint32(taskID[i])
		h *= 16777619
	}
	return int(h % 2)
}
