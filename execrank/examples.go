package execrank

import (
	"regexp"
	"strings"

	"github.com/toppass/toppass/internal/pylit"
)

// ExtractExamples turns the examples a prompt states into assert
// statements: doctest blocks (">>> f(1)" then the expected output) and the
// prose forms "f(1) == 2", "f(1) ➞ 2", "f(1) => 2", "f(1) -> 2",
// "f(1) ==> 2" and "f(1)  # returns 2". JavaScript-style true/false/null
// become Python's. Examples that are not Python still become statements;
// they fail for every candidate, so they change no ranking.
func ExtractExamples(prompt, entry string) []string {
	name := entry
	if i := strings.LastIndex(entry, "."); i >= 0 {
		name = entry[i+1:]
	}
	if name == "" {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(call, want string) {
		want = cleanExpected(want)
		if call == "" || want == "" {
			return
		}
		a := "assert " + call + " == " + want
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	lines := strings.Split(prompt, "\n")
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if strings.HasPrefix(t, ">>>") {
			// The expected output is the next line (outputs spread over
			// several lines are rare; a wrong guess fails for everyone).
			expr := strings.TrimSpace(strings.TrimPrefix(t, ">>>"))
			if i+1 < len(lines) && strings.Contains(expr, name+"(") {
				u := strings.TrimSpace(lines[i+1])
				if u != "" && !strings.HasPrefix(u, ">>>") && !strings.HasPrefix(u, `"""`) && !strings.HasPrefix(u, "'''") {
					add(expr, u)
					i++
				}
			}
			continue
		}
		if strings.HasPrefix(t, "def ") {
			continue
		}
		// A stated assert (MBPP's form, "assert set(f(x)) == set(y)",
		// "assert math.isclose(f(x), 1.5)") is kept as written.
		if strings.HasPrefix(t, "assert ") && strings.Contains(t, name+"(") && pylit.Balanced(t) {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
			continue
		}
		k := strings.Index(t, name+"(")
		if k < 0 || (k > 0 && isIdentByte(t[k-1]) && t[k-1] != '.') {
			continue
		}
		end := pylit.MatchBracket(t, k+len(name))
		if end < 0 {
			continue
		}
		call, rest := t[k:end+1], strings.TrimSpace(t[end+1:])
		if m := arrow.FindStringSubmatch(rest); m != nil {
			add(call, m[1])
		}
	}
	return out
}

var arrow = regexp.MustCompile(`^(?:==>|==|➞|=>|->|→|#\s*(?:returns|return|should return|=>|->)\s*:?)\s*(.+)$`)

func cleanExpected(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "  #"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = strings.TrimRight(s, " .,;")
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

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
