package generalize

import (
	"regexp"
	"strings"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/execrank"
)

// Restating a set's problems in another benchmark's shape.
//
// Users' problems are not written as HumanEval's: MBPP, for one, states a
// problem as a sentence and one example assert, with no signature and no
// docstring. How the methods do on that shape (the examples evidence is one
// assert; the self-made inputs come from its call alone, with no type
// hints; the model reads a short text) is measured by restating a set's
// prompts so, on the same candidates and labels.

// StyleOneAssert restates each prompt as its description and its first
// example as an assert (MBPP's shape).
const StyleOneAssert = "one-assert"

// exampleStart matches a docstring line where the examples begin.
var exampleStart = regexp.MustCompile(`(?i)^(>>>|for examples?\b|examples?\b|e\.g\.|input:|note:)`)

// OneAssert restates a function-style problem as MBPP states its problems:
// the description of its docstring, then the first example the prompt
// states, as an assert; no signature, no docstring. ok is false when the
// prompt states no example or has no docstring.
func OneAssert(p *dataset.Problem) (q *dataset.Problem, ok bool) {
	examples := execrank.ExtractExamples(p.Prompt, p.EntryPoint)
	if len(examples) == 0 {
		return nil, false
	}
	desc := description(p.Prompt, p.EntryPoint)
	if desc == "" {
		return nil, false
	}
	r := *p
	r.Prompt = desc + "\n" + examples[0] + "\n"
	return &r, true
}

// description is the entry function's docstring up to its examples, its
// lines trimmed and joined.
func description(prompt, entry string) string {
	name := execrank.FuncName(entry)
	var out []string
	for _, l := range strings.Split(execrank.Docstring(prompt, entry), "\n") {
		t := strings.TrimSpace(l)
		if exampleStart.MatchString(t) || strings.Contains(t, name+"(") {
			break
		}
		if t != "" {
			out = append(out, t)
		}
	}
	return strings.Join(out, " ")
}
