// Package mutate makes wrong programs from right ones: small source edits
// of the kinds code models get wrong (an operator, a boundary, an
// off-by-one constant, a flipped condition, a dropped statement). Labelled
// by execution in the sandbox, a problem's reference and its mutants give
// the ranker many candidates per problem, with near-miss negatives, where a
// dataset has only one solution per problem (LeetCode).
package mutate

import (
	"cmp"
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

// Options say what File mutates and how it numbers the candidates.
type Options struct {
	Per  int    // mutants per program
	Seed uint64 // the same seed gives the same mutants
	// Response takes each problem's program from a model's answer to it
	// (the field response, LeetCodeDataset's: prose around a fenced code
	// block; the longest python block) instead of the reference solution:
	// right programs, and mutants of them, in a generator's style rather
	// than a reference's. A record whose response holds no code block is
	// skipped (counted in Result.NoCode).
	Response bool
	// FirstIndex is the index of each problem's program; its mutants
	// follow it. A second candidates file for the same problems (the
	// responses beside the references) takes indices of its own this way,
	// so that both can be labelled and trained on as one group.
	FirstIndex int
}

// Result counts what File wrote.
type Result struct {
	Programs, Mutants int
	NoCode            int // responses without a code block (skipped)
}

// File writes a program per record of a JSONL file (fields task_id and
// completion or canonical_solution; with opt.Response, response) and
// opt.Per mutants of each to w, one candidate per line. Bad lines go to
// onErr with file:line.
func File(path string, opt Options, w io.Writer, onErr func(*dataset.LineError) error) (Result, error) {
	enc := json.NewEncoder(w)
	var res Result
	err := dataset.ReadLines(path, func(line int, raw []byte) error {
		var rec struct {
			TaskID     string  `json:"task_id"`
			Completion *string `json:"completion"`
			Canonical  *string `json:"canonical_solution"`
			Response   *string `json:"response"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		var prog *string
		switch {
		case !opt.Response:
			if prog = cmp.Or(rec.Completion, rec.Canonical); rec.TaskID == "" || prog == nil {
				return errors.New("needs task_id and completion or canonical_solution")
			}
		case rec.TaskID == "" || rec.Response == nil:
			return errors.New("needs task_id and response")
		default:
			code, ok := CodeBlock(*rec.Response)
			if !ok {
				res.NoCode++
				return nil
			}
			prog = &code
		}
		if err := enc.Encode(Candidate{TaskID: rec.TaskID, Index: opt.FirstIndex, Completion: *prog}); err != nil {
			return err
		}
		res.Programs++
		for i, m := range Mutants(*prog, opt.Per, opt.Seed^uint64(line)) {
			if err := enc.Encode(Candidate{TaskID: rec.TaskID, Index: opt.FirstIndex + i + 1, Completion: m.Code, Mutation: m.Operator, Line: m.Line}); err != nil {
				return err
			}
			res.Mutants++
		}
		return nil
	}, onErr)
	return res, err
}

var fence = regexp.MustCompile("(?s)```(?:python3?|py)?[ \\t]*\\n(.*?)```")

// CodeBlock returns the longest fenced python (or untagged) code block of
// a model's answer: answers put the program in one block, and a shorter
// block beside it is a usage example or a fragment.
func CodeBlock(answer string) (string, bool) {
	best := ""
	for _, m := range fence.FindAllStringSubmatch(answer, -1) {
		if len(m[1]) > len(best) {
			best = m[1]
		}
	}
	return best, strings.TrimSpace(best) != ""
}
