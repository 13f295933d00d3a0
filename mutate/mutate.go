// Package mutate makes wrong programs from right ones: small source edits
// of the kinds code models get wrong (an operator, a boundary, an
// off-by-one constant, a flipped condition, a dropped statement). Labelled
// by execution in the sandbox, a problem's reference and its mutants give
// the ranker many candidates per problem, with near-miss negatives, where a
// dataset has only one solution per problem (LeetCode).
package mutate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"

	"github.com/toppass/toppass/dataset"
)

// An operator rewrites one match of re.
type operator struct {
	name string
	re   *regexp.Regexp
	repl func(match string, rng *rand.Rand) string
}

func swap(pairs ...string) func(string, *rand.Rand) string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]], m[pairs[i+1]] = pairs[i+1], pairs[i]
	}
	return func(s string, _ *rand.Rand) string {
		if r, ok := m[strings.TrimSpace(s)]; ok {
			return strings.Replace(s, strings.TrimSpace(s), r, 1)
		}
		return s
	}
}

var operators = []operator{
	{"comparison", regexp.MustCompile(`\s(<=|>=|<|>|==|!=)\s`), swap("<", "<=", ">", ">=", "==", "!=")},
	{"arithmetic", regexp.MustCompile(`\s(\+|-|\*|//|%)\s`), func(s string, rng *rand.Rand) string {
		ops := []string{"+", "-", "*", "//"}
		op := strings.TrimSpace(s)
		for {
			r := ops[rng.IntN(len(ops))]
			if r != op {
				return strings.Replace(s, op, r, 1)
			}
		}
	}},
	{"off-by-one", regexp.MustCompile(`\b\d+\b`), func(s string, rng *rand.Rand) string {
		n := 0
		for _, c := range s {
			n = n*10 + int(c-'0')
		}
		if n == 0 || rng.IntN(2) == 0 {
			return itoa(n + 1)
		}
		return itoa(n - 1)
	}},
	{"boundary", regexp.MustCompile(`range\(([^()]*)\)`), func(s string, rng *rand.Rand) string {
		inner := s[len("range(") : len(s)-1]
		parts := strings.Split(inner, ",")
		i := len(parts) - 1
		if len(parts) >= 2 {
			i = min(1, len(parts)-1)
		}
		if rng.IntN(2) == 0 {
			parts[i] = strings.TrimRight(parts[i], " ") + " - 1"
		} else {
			parts[i] = strings.TrimRight(parts[i], " ") + " + 1"
		}
		return "range(" + strings.Join(parts, ",") + ")"
	}},
	{"logic", regexp.MustCompile(`\b(and|or|True|False|min|max)\b`), swap("and", "or", "True", "False", "min", "max")},
	{"negation", regexp.MustCompile(`\b(if|while) not \b|\b(if|while) `), func(s string, _ *rand.Rand) string {
		if strings.HasSuffix(s, " not ") {
			return strings.TrimSuffix(s, "not ")
		}
		return s + "not "
	}},
	{"index", regexp.MustCompile(`\[(\w+)\]`), func(s string, rng *rand.Rand) string {
		inner := s[1 : len(s)-1]
		if rng.IntN(2) == 0 {
			return "[" + inner + " + 1]"
		}
		return "[" + inner + " - 1]"
	}},
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// inCode reports whether byte i of line lies outside string literals and
// comments (a rough scan, enough to keep mutations in code).
func inCode(line string, i int) bool {
	var quote byte
	for j := 0; j < i; j++ {
		c := line[j]
		switch {
		case quote != 0 && c == '\\':
			j++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == '#':
			return false
		}
	}
	return quote == 0
}

type site struct {
	line, start, end int
	op               *operator
}

// Mutants returns up to n distinct mutants of code (none equal to code),
// deterministically for a given seed. Lines in triple-quoted strings are
// left alone.
func Mutants(code string, n int, seed uint64) []Mutant {
	lines := strings.Split(code, "\n")
	var sites []site
	var drops []int
	inDoc := false
	for li, line := range lines {
		trim := strings.TrimSpace(line)
		if strings.Count(line, `"""`)%2 == 1 || strings.Count(line, `'''`)%2 == 1 {
			inDoc = !inDoc
			continue
		}
		if strings.HasPrefix(trim, `"""`) || strings.HasPrefix(trim, `'''`) {
			continue // a one-line docstring
		}
		if inDoc || trim == "" || strings.HasPrefix(trim, "#") || strings.HasPrefix(trim, "def ") || strings.HasPrefix(trim, "class ") || strings.HasPrefix(trim, "import ") || strings.HasPrefix(trim, "from ") {
			continue
		}
		for oi := range operators {
			op := &operators[oi]
			for _, m := range op.re.FindAllStringIndex(line, -1) {
				if inCode(line, m[0]) {
					sites = append(sites, site{li, m[0], m[1], op})
				}
			}
		}
		// A simple statement can be dropped if a sibling keeps the block non-empty.
		if !strings.HasSuffix(trim, ":") && !strings.HasPrefix(trim, "return") && li > 0 {
			drops = append(drops, li)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d75746174))
	seen := map[string]bool{code: true}
	var out []Mutant
	for tries := 0; len(out) < n && tries < 20*n && len(sites)+len(drops) > 0; tries++ {
		var m Mutant
		k := rng.IntN(len(sites) + len(drops))
		if k < len(sites) {
			s := sites[k]
			line := lines[s.line]
			rep := s.op.repl(line[s.start:s.end], rng)
			mutated := line[:s.start] + rep + line[s.end:]
			m = Mutant{Code: join(lines, s.line, mutated), Operator: s.op.name, Line: s.line + 1}
		} else {
			li := drops[k-len(sites)]
			indent := lines[li][:len(lines[li])-len(strings.TrimLeft(lines[li], " \t"))]
			m = Mutant{Code: join(lines, li, indent+"pass"), Operator: "drop-statement", Line: li + 1}
		}
		if seen[m.Code] {
			continue
		}
		seen[m.Code] = true
		out = append(out, m)
	}
	return out
}

// Mutant is one mutated program.
type Mutant struct {
	Code     string `json:"completion"`
	Operator string `json:"mutation"`
	Line     int    `json:"mutated_line"`
}

func join(lines []string, i int, repl string) string {
	c := make([]string, len(lines))
	copy(c, lines)
	c[i] = repl
	return strings.Join(c, "\n")
}

// Candidate is one line of the mutants file (a candidates file that
// `toppass label` reads): index 0 is the reference, then its mutants.
type Candidate struct {
	TaskID     string `json:"task_id"`
	Index      int    `json:"index"`
	Completion string `json:"completion"`
	Mutation   string `json:"mutation,omitempty"`
	Line       int    `json:"mutated_line,omitempty"`
}

// File writes the reference solutions of a JSONL file (fields task_id and
// completion, or canonical_solution) and per mutants of each to w, one
// candidate per line. Bad lines go to onErr with file:line.
func File(path string, per int, seed uint64, w io.Writer, onErr func(*dataset.LineError) error) (refs, mutants int, err error) {
	enc := json.NewEncoder(w)
	err = dataset.ReadLines(path, func(line int, raw []byte) error {
		var rec struct {
			TaskID     string  `json:"task_id"`
			Completion *string `json:"completion"`
			Canonical  *string `json:"canonical_solution"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		ref := rec.Completion
		if ref == nil {
			ref = rec.Canonical
		}
		if rec.TaskID == "" || ref == nil {
			return errors.New("needs task_id and completion or canonical_solution")
		}
		if err := enc.Encode(Candidate{TaskID: rec.TaskID, Completion: *ref}); err != nil {
			return err
		}
		refs++
		for i, m := range Mutants(*ref, per, seed^uint64(line)) {
			if err := enc.Encode(Candidate{TaskID: rec.TaskID, Index: i + 1, Completion: m.Code, Mutation: m.Operator, Line: m.Line}); err != nil {
				return err
			}
			mutants++
		}
		return nil
	}, onErr)
	return refs, mutants, err
}
