package ranker

import (
	"fmt"
	"math"
)

// Config sizes the model. It is saved with the model (config.json) so a
// checkpoint always comes back with the shape it was trained with.
type Config struct {
	Vocab   int `json:"vocab"`    // tokenizer vocabulary size
	Dim     int `json:"dim"`      // hidden width
	Layers  int `json:"layers"`   // encoder blocks
	Heads   int `json:"heads"`    // attention heads
	FFN     int `json:"ffn"`      // feed-forward width
	CandLen int `json:"cand_len"` // candidate tokens kept (its head)
	ProbLen int `json:"prob_len"` // problem tokens kept (signature, docstring, examples)
	HeadDim int `json:"head_dim"` // hidden width of the set-aware head
	// ConsensusBeta, when set, makes the ranking score the plain lexical
	// consensus plus this weight times the neural logit, both z-scored
	// among the problem's candidates (Anchor): a ranker that cannot fall
	// far below the consensus it is given. Chosen on validation data.
	ConsensusBeta *float64 `json:"consensus_beta,omitempty"`
	// GroupFeatures gives the set features whose level depends on the
	// generator rather than on the candidate — the lexical, line and
	// structural consensus and the log length — as z-scores within the
	// problem (groupLevelFeatures): candidates from a model whose samples
	// are all alike, or all long, then look no better or worse than
	// another model's.
	GroupFeatures bool `json:"group_features,omitempty"`
	// Calibration, when set, maps the pass logit to P(pass) by Platt
	// scaling, sigmoid(A·logit + B), fit on validation data at the end of
	// training. It changes the probability shown, never the ranking.
	Calibration *Platt `json:"calibration,omitempty"`
}

// Platt is a logistic calibration of a logit.
type Platt struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
	// Fit says on what (the validation problems, how many candidates).
	Fit string `json:"fit,omitempty"`
}

// MaxLen is the longest sequence the position table covers.
func (c Config) MaxLen() int { return max(c.CandLen, c.ProbLen) }

// Validate reports a config the model cannot be built from.
func (c Config) Validate() error {
	switch {
	case c.Vocab < 260 || c.Dim <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.FFN <= 0 || c.CandLen < 8 || c.ProbLen < 8 || c.HeadDim <= 0:
		return fmt.Errorf("ranker: config has a size out of range: %+v", c)
	case c.ConsensusBeta != nil && (*c.ConsensusBeta < 0 || math.IsNaN(*c.ConsensusBeta)):
		return fmt.Errorf("ranker: consensus_beta %v is negative", *c.ConsensusBeta)
	case c.Calibration != nil && (!(c.Calibration.A > 0) || math.IsNaN(c.Calibration.B) || math.IsInf(c.Calibration.A+c.Calibration.B, 0)):
		return fmt.Errorf("ranker: calibration %+v: a must be positive and both finite", *c.Calibration)
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("ranker: dim %d is not a multiple of heads %d", c.Dim, c.Heads)
	}
	return nil
}

// Presets: "tiny" for tests, "small" (the default) sized for two CPU cores
// on GoMLX's pure-Go backend (see docs/ranker.md for the arithmetic).
var Presets = map[string]Config{
	"tiny":  {Vocab: 512, Dim: 16, Layers: 1, Heads: 2, FFN: 32, CandLen: 32, ProbLen: 32, HeadDim: 16},
	"small": {Vocab: 8192, Dim: 64, Layers: 2, Heads: 4, FFN: 128, CandLen: 128, ProbLen: 128, HeadDim: 64},
}

// IntentClasses and ExecClasses are the CodeRanker fault classes (the
// values of dataset.Label's IntentError and ExecError), "" mapped to "none".
var (
	IntentClasses = []string{"none", "none_returned", "empty", "wrong_type", "wrong_length",
		"int_too_small", "int_too_large", "string_too_short", "string_too_long", "other"}
	ExecClasses = []string{"none", "NameError", "ValueError", "EOFError", "TypeError", "IndexError",
		"KeyError", "Timeout", "SyntaxError", "FunctionNotFound", "other"}
	TernaryClasses = []string{"pass", "intent_error", "execution_error"}
)

// ClassIndex maps a class name to its index in classes ("" → "none",
// unknown → "other").
func ClassIndex(classes []string, name string) int {
	if name == "" {
		name = "none"
	}
	for i, c := range classes {
		if c == name {
			return i
		}
	}
	return len(classes) - 1
}

// NumFeatures is the width of the per-candidate set features (see features.go).
const NumFeatures = 12

// Static is what compiling a candidate, without running it, tells.
type Static struct {
	SyntaxError bool // it does not compile
	Undefined   int  // global names it reads but never binds
	Failed      bool // the analysis did not finish (treated as not compiling)
}
