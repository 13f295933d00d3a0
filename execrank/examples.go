package execrank

import (
	"regexp"
	"strings"

	"github.com/toppass/toppass/internal/pylit"
)

// ExtractExamples turns the examples a prompt states into assert
// statements. The forms prompts use (HumanEval's, MBPP's, LeetCode's and
// the prose of hand-written tasks):
//
//   - doctest: ">>> f(1)" then the expected output on the next line, or
//     inline, ">>> f(1) == 2" (a "True" line after it is the comparison's);
//   - a stated assert, kept as written ("assert set(f(x)) == set(y)");
//   - prose: "f(1) == 2", "f(1) ➞ 2", "f(1) => 2", "f(1) -> 2",
//     "f(1) ==> 2", "f(1) returns 2", "f(1) should return 2",
//     "f(1)  # returns 2" (also after "assert"), and "f(1) = 2", "f(1) is
//     2" when a plain literal follows;
//   - named inputs: "For lst = [1, 2] the output should be 3" and
//     LeetCode's "Input: nums = [1, 2], k = 3" … "Output: 4" (the names
//     put in the signature's order, so that a candidate that renames a
//     parameter is still called right).
//
// An expected value loses a comment, the working before its result and
// an aside after it (cleanExpected); JavaScript-style true/false/null
// become Python's. A block that defines the function by a recurrence
// states no examples (definitions). Examples that are not Python still
// become statements; they fail for every candidate, so they change no
// ranking.
func ExtractExamples(prompt, entry string) []string {
	name := FuncName(entry)
	if name == "" {
		return nil
	}
	x := &extractor{name: name, seen: map[string]bool{}}
	x.params, x.signed = signature(prompt, entry)
	lines := strings.Split(prompt, "\n")
	defining := x.definitions(lines)
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(t, ">>>"):
			i += x.doctest(strings.TrimSpace(strings.TrimPrefix(t, ">>>")), lines[i+1:])
		case strings.HasPrefix(t, "def "):
		case strings.HasPrefix(t, "assert "):
			// "assert f(x) => y" is prose that borrowed the keyword.
			if x.prose(strings.TrimPrefix(t, "assert "), notPython) {
				continue
			}
			if strings.Contains(t, name+"(") && pylit.Balanced(t) {
				x.keep(t)
			}
		case inputLine.MatchString(t):
			i += x.inputOutput(lines[i:])
		default:
			if m := forOutput.FindStringSubmatch(t); m != nil && !strings.Contains(m[1], name+"(") {
				if call, ok := x.namedCall(m[1]); ok {
					x.add(call, m[2])
					continue
				}
			}
			if !defining[i] {
				x.prose(t, arrow)
			}
		}
	}
	return x.out
}

// extractor collects one prompt's examples, each once.
type extractor struct {
	name   string
	params []string // the signature's, as written; signed: found
	signed bool
	seen   map[string]bool
	out    []string
}

func (x *extractor) keep(stmt string) {
	if !x.seen[stmt] {
		x.seen[stmt] = true
		x.out = append(x.out, stmt)
	}
}

func (x *extractor) add(call, want string) {
	want = cleanExpected(want)
	if call == "" || want == "" {
		return
	}
	x.keep("assert " + call + " == " + want)
}

// call finds the first call of the entry point in s (not of another
// name ending in it): the call's text and what follows it.
func (x *extractor) call(s string) (call, rest string, ok bool) {
	k := strings.Index(s, x.name+"(")
	if k < 0 || k > 0 && isIdentByte(s[k-1]) {
		return "", "", false
	}
	end := pylit.MatchBracket(s, k+len(x.name))
	if end < 0 {
		return "", "", false
	}
	return s[k : end+1], strings.TrimSpace(s[end+1:]), true
}

// definitions marks the lines of the blocks (runs of non-blank lines)
// that define the function rather than show it: a block with a line such
// as "tri(n) = 1 + n / 2" (an argument that is not a value) or "tri(3) =
// tri(2) + tri(1)" (a value that calls it). Its "tri(1) = 3" is the
// sequence's, which the function may not return as such.
func (x *extractor) definitions(lines []string) []bool {
	out := make([]bool, len(lines))
	start := 0
	for i := 0; i <= len(lines); i++ {
		if i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			continue
		}
		def := false
		for _, l := range lines[start:i] {
			def = def || x.defines(strings.TrimSpace(l))
		}
		for k := start; k < i; k++ {
			out[k] = def
		}
		start = i + 1
	}
	return out
}

// defines says whether line t is a definition (see definitions).
func (x *extractor) defines(t string) bool {
	if strings.HasPrefix(t, "def ") || strings.HasPrefix(t, ">>>") {
		return false // the signature; a doctest
	}
	call, _, value, ok := x.arrowed(t, symbolArrow)
	if !ok {
		return false
	}
	if strings.Contains(value, x.name+"(") {
		return true
	}
	for _, a := range pylit.SplitTopLevel(call[len(x.name)+1 : len(call)-1]) {
		if _, err := pylit.Parse(a); err != nil {
			return true
		}
	}
	return false
}

// doctest reads ">>> expr" (expr given) and its output among next; it
// returns how many of next it used.
func (x *extractor) doctest(expr string, next []string) int {
	// ">>> f(1, 2)  # f(x) = 1 + 2x": the comment is not the call's.
	expr = strings.TrimSpace(cutComment(expr))
	if !strings.Contains(expr, x.name+"(") {
		return 0
	}
	out := ""
	if len(next) > 0 {
		u := strings.TrimSpace(next[0])
		if u != "" && !strings.HasPrefix(u, ">>>") && !strings.HasPrefix(u, `"""`) && !strings.HasPrefix(u, "'''") {
			out = u
		}
	}
	call, rest, ok := x.call(expr)
	if ok && strings.HasPrefix(expr, call) {
		// ">>> f(1) == 2" states the value inline; a "True" under it is
		// the comparison's result, not f's (and "False" says it is not).
		if want, inline := strings.CutPrefix(rest, "=="); inline && !strings.HasPrefix(want, "=") {
			switch out {
			case "":
				x.add(call, want)
				return 0
			case "True":
				x.add(call, want)
				return 1
			case "False":
				return 1
			}
		}
		// ">>> f(1) [2]": the output written on the same line (after a
		// space: "f(1)[0]" is a subscript).
		if out == "" && rest != "" && expr[len(call)] == ' ' {
			if _, err := pylit.Parse(cleanExpected(rest)); err == nil {
				x.add(call, rest)
				return 0
			}
		}
	}
	// The expected output is the next line (outputs spread over several
	// lines are rare; a wrong guess fails for everyone).
	if out == "" {
		return 0
	}
	x.add(expr, out)
	return 1
}

// prose reads "f(1) <op> 2" with op one that re matches; false when s
// holds no such example.
func (x *extractor) prose(s string, re *regexp.Regexp) bool {
	call, op, value, ok := x.arrowed(s, re)
	if !ok {
		return false
	}
	if weakArrow[op] {
		// "tri(n) = 1 + n / 2, if n is even", "f(x) is the …": the
		// words say something else; only a plain value is an example.
		if _, err := pylit.Parse(cleanExpected(value)); err != nil {
			return true
		}
	}
	x.add(call, value)
	return true
}

// arrowed reads "f(1) <op> 2" in s, op one that re (groups: op, value)
// matches after the call.
func (x *extractor) arrowed(s string, re *regexp.Regexp) (call, op, value string, ok bool) {
	call, rest, ok := x.call(s)
	if !ok {
		return "", "", "", false
	}
	m := re.FindStringSubmatch(rest)
	if m == nil {
		return "", "", "", false
	}
	return call, strings.TrimSpace(m[1]), m[2], true
}

// inputOutput reads a LeetCode-style example from lines[0] ("Input: …",
// the inputs on that line or as "name : value" lines under it) to its
// "Output: …"; it returns how many lines after the first it used.
func (x *extractor) inputOutput(lines []string) int {
	args := strings.TrimSpace(inputLine.FindStringSubmatch(strings.TrimSpace(lines[0]))[1])
	var named []string
	i := 1
	for ; i < len(lines) && i <= 12; i++ {
		t := strings.TrimSpace(lines[i])
		m := outputLine.FindStringSubmatch(t)
		if m == nil {
			if args == "" && t != "" {
				named = append(named, t)
			}
			continue
		}
		want := strings.TrimSpace(m[1])
		if want == "" && i+1 < len(lines) {
			i++
			want = strings.TrimSpace(lines[i])
		}
		if args == "" {
			// "grid : [[0, 1]]" lines: one input each.
			for k, a := range named {
				if n, v, ok := strings.Cut(a, ":"); ok && pylit.IsName(strings.TrimSpace(n)) {
					named[k] = strings.TrimSpace(n) + " = " + strings.TrimSpace(v)
				}
			}
			args = strings.Join(named, ", ")
		}
		if call, ok := x.namedCall(args); ok {
			x.add(call, want)
		}
		return i
	}
	return 0
}

// namedCall makes a call of the entry point from inputs written as
// "a = 1, b = [2]" (put in the signature's order) or as bare values
// "[1, 2], 3" (passed as written).
func (x *extractor) namedCall(args string) (string, bool) {
	parts := pylit.SplitTopLevel(args)
	if len(parts) == 0 {
		return "", false
	}
	values := map[string]string{}
	var order []string
	for _, p := range parts {
		n, v, ok := cutAssign(p)
		if !ok {
			if len(values) > 0 {
				return "", false // names and bare values mixed
			}
			continue
		}
		if _, dup := values[n]; dup {
			return "", false
		}
		values[n] = v
		order = append(order, n)
	}
	if len(values) == 0 {
		return x.name + "(" + strings.Join(parts, ", ") + ")", true
	}
	if len(values) != len(parts) {
		return "", false
	}
	if !x.signed {
		var vs []string
		for _, n := range order {
			vs = append(vs, values[n])
		}
		return x.name + "(" + strings.Join(vs, ", ") + ")", true
	}
	// Positional while the signature's parameters are all given, then
	// by keyword; a name the signature lacks is not this function's.
	var vs []string
	used, positional := 0, true
	for _, p := range x.params {
		n := paramName(p)
		v, ok := values[n]
		if !ok {
			if !strings.Contains(p, "=") && !strings.HasPrefix(p, "*") {
				return "", false // a required input not given
			}
			positional = false
			continue
		}
		used++
		if positional {
			vs = append(vs, v)
		} else {
			vs = append(vs, n+"="+v)
		}
	}
	if used != len(values) {
		return "", false
	}
	return x.name + "(" + strings.Join(vs, ", ") + ")", true
}

// cutAssign splits "name = value" at its first top-level single "=".
func cutAssign(s string) (name, value string, ok bool) {
	k := strings.IndexByte(s, '=')
	if k <= 0 || k+1 < len(s) && s[k+1] == '=' || strings.ContainsAny(s[k-1:k], "<>!=") {
		return "", "", false
	}
	name = strings.TrimSpace(s[:k])
	value = strings.TrimSpace(s[k+1:])
	if !pylit.IsName(name) || value == "" {
		return "", "", false
	}
	return name, value, true
}

// paramName is the name in a parameter as written ("k: int = 1" → k).
func paramName(p string) string {
	p = strings.TrimLeft(p, "*")
	if i := strings.IndexAny(p, ":="); i >= 0 {
		p = p[:i]
	}
	return strings.TrimSpace(p)
}

var (
	// arrow is what may stand between a call and its value in prose.
	arrow = regexp.MustCompile(`^(==>|==|➞|=>|->|→|=|#\s*(?:returns|return|should return|=>|->)\s*:?|(?:returns|should return|should be|will return|gives|is)\s)\s*(.+)$`)
	// notPython is the part of arrow that is not Python.
	notPython = regexp.MustCompile(`^(==>|➞|=>|->|→)\s*(.+)$`)
	// symbolArrow are the arrows that are symbols, not words.
	symbolArrow = regexp.MustCompile(`^(==>|==|➞|=>|->|→|=)\s*(.+)$`)
	// weakArrow are the arrows that prose also uses for other things
	// (definitions, descriptions): their value must be a literal.
	weakArrow  = map[string]bool{"=": true, "is": true, "gives": true}
	inputLine  = regexp.MustCompile(`(?i)^(?:example\s*\d*\s*:\s*)?inputs?\s*:\s*(.*)$`)
	outputLine = regexp.MustCompile(`(?i)^outputs?\s*:\s*(.*)$`)
	forOutput  = regexp.MustCompile(`(?i)^for\s+(.+?),?\s+the\s+(?:output|result|answer)\s+(?:should be|will be|would be|is)\s*:?\s*(.+)$`)
)

// cleanExpected trims an expected value: a comment after it, trailing
// punctuation, the working before a result ("19 - 5 - 6 = 8" gives 8),
// an aside after a literal ("'No' (it starts with a digit)"),
// JavaScript's literals.
func cleanExpected(s string) string {
	s = strings.TrimSpace(cutComment(s))
	s = strings.TrimRight(s, " .,;")
	k := -1
	pylit.Outside(s, func(i, depth int, c byte) bool {
		if c == '=' && depth == 0 && (i == 0 || !strings.ContainsRune("=<>!", rune(s[i-1]))) &&
			(i+1 == len(s) || s[i+1] != '=') {
			k = i
		}
		return true
	})
	if k >= 0 {
		s = strings.TrimSpace(s[k+1:])
	}
	if _, err := pylit.Parse(jsLiteral(s)); err != nil && strings.HasSuffix(s, ")") {
		cut := -1
		pylit.Outside(s, func(i, depth int, c byte) bool {
			if c == '(' && depth == 1 && i > 0 && s[i-1] == ' ' {
				if _, err := pylit.Parse(jsLiteral(strings.TrimSpace(s[:i]))); err == nil {
					cut = i
					return false
				}
			}
			return true
		})
		if cut >= 0 {
			s = strings.TrimSpace(s[:cut])
		}
	}
	return jsLiteral(s)
}

// jsLiteral turns JavaScript's (and prose's) true/false/null into Python.
func jsLiteral(s string) string {
	switch s {
	case "true":
		return "True"
	case "false":
		return "False"
	case "null", "none":
		return "None"
	}
	return s
}

// cutComment drops a "#" comment outside string literals.
func cutComment(s string) string {
	end := len(s)
	pylit.Outside(s, func(i, _ int, c byte) bool {
		if c == '#' {
			end = i
			return false
		}
		return true
	})
	return s[:end]
}

// isIdentByte says whether c may be part of a Python name (so a call of
// "f" is not found inside "notf(").
func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
