package dataset

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Label is the sandbox's verdict on one candidate.
type Label struct {
	TaskID string `json:"task_id"`
	Index  int    `json:"index"`
	Passed bool   `json:"passed"`
	// Status: pass, fail, error, timeout (the time budget is spent),
	// wall_timeout (the wall-clock backstop: the machine was too slow or
	// busy; not reproducible), memory, output_limit.
	Status string `json:"status"`
	// ExecError: NameError, ValueError, EOFError, TypeError, IndexError,
	// KeyError, Timeout, SyntaxError, FunctionNotFound, other ("" if none).
	ExecError string `json:"exec_error"`
	// IntentError: none_returned, empty, wrong_type, wrong_length,
	// int_too_small, int_too_large, string_too_short, string_too_long,
	// other ("" if none).
	IntentError string `json:"intent_error"`
	// ErrorLine is the 1-based line of the candidate's code where the error
	// was raised, 0 if none.
	ErrorLine int `json:"error_line"`
	// DurationMS is the wall time the label took, which depends on the
	// machine; Fuel is the work the candidate did in the sandbox and CostMS
	// that work in milliseconds of native CPython, the same on every
	// machine; BudgetMS is the time budget the label was made under (0 in
	// labels made before budgets existed).
	DurationMS float64 `json:"duration_ms"`
	Fuel       int64   `json:"fuel,omitempty"`
	CostMS     float64 `json:"cost_ms"`
	BudgetMS   int64   `json:"budget_ms,omitempty"`

	Exception string `json:"exception,omitempty"`
	Message   string `json:"message,omitempty"`
	LineText  string `json:"line_text,omitempty"`
	TestsRun  int    `json:"tests_run,omitempty"`
}

// Key identifies the labelled candidate.
func (l *Label) Key() Key { return Key{l.TaskID, l.Index} }

// LabelStatuses are the values of Label.Status.
var LabelStatuses = []string{"pass", "fail", "error", "timeout", "wall_timeout", "memory", "output_limit"}

// ReadLabels reads a labels file. A torn last line (a run killed while
// writing it) is not an error: its offset is returned as validEnd so that
// a resumed run can cut it off; any other bad line goes to onErr. A ".gz"
// file is decompressed (and taken as complete).
func ReadLabels(path string, onErr func(*LineError) error) (labels map[Key]*Label, validEnd int64, err error) {
	labels = map[Key]*Label{}
	f, err := os.Open(path)
	if err != nil {
		return labels, 0, err
	}
	defer f.Close()
	var r io.Reader = f
	gz := strings.HasSuffix(path, ".gz")
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	if gz {
		// A compressed file is written whole, never appended to: its
		// valid end is the file's, and a last line without a newline is
		// read like the others.
		st, err := f.Stat()
		if err != nil {
			return nil, 0, err
		}
		validEnd = st.Size()
		if len(data) > 0 && data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
	}
	line := 0
	for off := 0; off < len(data); {
		line++
		end := off
		for end < len(data) && data[end] != '\n' {
			end++
		}
		raw := data[off:end]
		if end == len(data) {
			// No newline: the last write did not finish, unless the line
			// parses completely.
			var l Label
			if json.Unmarshal(raw, &l) != nil || l.TaskID == "" {
				return labels, int64(off), nil
			}
		}
		if len(raw) > 0 {
			var l Label
			if err := json.Unmarshal(raw, &l); err != nil || l.TaskID == "" {
				if err == nil {
					err = errors.New("missing task_id")
				}
				if herr := onErr(&LineError{File: path, Line: line, Err: fmt.Errorf("invalid label: %w", err)}); herr != nil {
					return nil, 0, herr
				}
			} else {
				labels[l.Key()] = &l
			}
		}
		off = end + 1
	}
	if gz {
		return labels, validEnd, nil
	}
	return labels, int64(len(data)), nil
}

// ReferenceLabels, given in place of a labels file, takes each
// candidate's verdict from its reference_status field ("OK" passes): the
// verdicts a dataset ships with (code-davinci-002's, from MultiPL-E's
// harness).
const ReferenceLabels = "reference"

// ReferenceLabel is the label of a candidate's recorded verdict; an error
// (with file:line) when it has none.
func ReferenceLabel(c *Candidate) (*Label, error) {
	if c.ReferenceStatus == "" {
		return nil, &LineError{File: c.File, Line: c.Line, Err: fmt.Errorf("no reference_status (labels %q take the verdicts from the candidates)", ReferenceLabels)}
	}
	l := &Label{TaskID: c.TaskID, Index: c.Key().Index, Passed: c.ReferenceStatus == "OK", Status: "fail"}
	if l.Passed {
		l.Status = "pass"
	}
	return l, nil
}
