package lsp

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/toppass/toppass/dataset"
)

// A Python function in a document, found by its text (no parser needed:
// the code may be half written). Lines are 0-based.
type pyFunc struct {
	Name   string
	Entry  string // "f", or "Class().f" for a method
	Def    int    // the def line (decorators are above it)
	Indent string // the def's indentation
	Body   int    // first line after the signature and docstring
	End    int    // one past the last line of the function
	Stub   bool   // the body is empty, pass or ...
	Doc    string // the docstring, without quotes
	// Prompt is what a generator completes: the document up to the end
	// of the docstring (imports and helpers above included).
	Prompt string
}

var (
	defLine   = regexp.MustCompile(`^(\s*)(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(`)
	classLine = regexp.MustCompile(`^(\s*)class\s+([A-Za-z_]\w*)\s*[(:]`)
)

func indentOf(line string) int { return len(line) - len(strings.TrimLeft(line, " \t")) }

func blank(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#")
}

// funcAt finds the innermost function whose text holds line (its
// decorators, signature, docstring or body).
func funcAt(text string, line int) (*pyFunc, bool) {
	lines := strings.Split(text, "\n")
	if line < 0 || line >= len(lines) {
		return nil, false
	}
	for def := line; def >= 0; def-- {
		m := defLine.FindStringSubmatch(lines[def])
		if m == nil {
			continue
		}
		f := parseFunc(lines, def, m[1], m[2])
		if f != nil && line < f.End {
			return f, true
		}
		if f != nil && indentOf(lines[def]) == 0 {
			return nil, false // a top-level function that ends above line
		}
	}
	return nil, false
}

// funcs lists the functions of a document, outermost first.
func funcs(text string) []*pyFunc {
	lines := strings.Split(text, "\n")
	var out []*pyFunc
	for i, l := range lines {
		if m := defLine.FindStringSubmatch(l); m != nil {
			if f := parseFunc(lines, i, m[1], m[2]); f != nil {
				out = append(out, f)
			}
		}
	}
	return out
}

func parseFunc(lines []string, def int, indent, name string) *pyFunc {
	f := &pyFunc{Name: name, Entry: name, Def: def, Indent: indent}
	// The signature ends at the first ':' outside brackets.
	depth, sigEnd := 0, -1
	for i := def; i < len(lines) && sigEnd < 0; i++ {
		inStr := byte(0)
		for j := 0; j < len(lines[i]); j++ {
			c := lines[i][j]
			switch {
			case inStr != 0:
				if c == '\\' {
					j++
				} else if c == inStr {
					inStr = 0
				}
			case c == '"' || c == '\'':
				inStr = c
			case c == '#':
				j = len(lines[i])
			case c == '(' || c == '[' || c == '{':
				depth++
			case c == ')' || c == ']' || c == '}':
				depth--
			case c == ':' && depth == 0:
				sigEnd = i
			}
			if sigEnd >= 0 {
				if rest := strings.TrimSpace(lines[i][j+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
					return nil // a one-line function: nothing to offer
				}
				break
			}
		}
	}
	if sigEnd < 0 {
		return nil
	}
	// The body: lines indented deeper than the def, up to the first
	// non-blank line that is not.
	base := indentOf(lines[def])
	end := sigEnd + 1
	for i := sigEnd + 1; i < len(lines); i++ {
		if blank(lines[i]) {
			continue
		}
		if indentOf(lines[i]) <= base {
			break
		}
		end = i + 1
	}
	f.End = end
	f.Body = sigEnd + 1
	// A docstring right after the signature.
	for i := sigEnd + 1; i < end; i++ {
		if blank(lines[i]) {
			continue
		}
		t := strings.TrimSpace(lines[i])
		t = strings.TrimLeft(t, "rRuUbB")
		for _, q := range []string{`"""`, `'''`} {
			if !strings.HasPrefix(t, q) {
				continue
			}
			rest := t[3:]
			if k := strings.Index(rest, q); k >= 0 {
				f.Doc, f.Body = rest[:k], i+1
				break
			}
			var doc []string
			doc = append(doc, rest)
			for j := i + 1; j < end; j++ {
				if k := strings.Index(lines[j], q); k >= 0 {
					doc = append(doc, lines[j][:k])
					f.Doc, f.Body = strings.Join(doc, "\n"), j+1
					break
				}
				doc = append(doc, lines[j])
			}
		}
		break
	}
	f.Stub = true
	for i := f.Body; i < end; i++ {
		t := strings.TrimSpace(lines[i])
		if !blank(lines[i]) && t != "pass" && t != "..." && !strings.HasPrefix(t, "raise NotImplementedError") {
			f.Stub = false
			break
		}
	}
	// A method: the entry point is an instance's.
	if base > 0 {
		for i := def - 1; i >= 0; i-- {
			if m := classLine.FindStringSubmatch(lines[i]); m != nil && len(m[1]) < base {
				f.Entry = m[2] + "()." + name
				break
			}
			if !blank(lines[i]) && indentOf(lines[i]) < base && !strings.HasPrefix(strings.TrimSpace(lines[i]), "@") {
				break
			}
		}
	}
	f.Prompt = strings.Join(lines[:f.Body], "\n") + "\n"
	return f
}

// problem is the problem a function poses: its prompt (the document up
// to the docstring), its entry point, and a task id that names it by its
// signature and docstring, so that the same function keeps its candidates
// while the code around it changes, in any file.
func (f *pyFunc) problem() *dataset.Problem {
	lines := strings.Split(f.Prompt, "\n")
	h := sha256.Sum256([]byte(f.Entry + "\x00" + strings.Join(lines[f.Def:f.Body], "\n")))
	return &dataset.Problem{TaskID: "lsp/" + f.Name + "/" + hex.EncodeToString(h[:6]), Prompt: f.Prompt, EntryPoint: f.Entry}
}

// current is the function as written, as a candidate of its problem.
func (f *pyFunc) current(text string) *dataset.Candidate {
	lines := strings.Split(text, "\n")
	body := strings.Join(lines[f.Body:f.End], "\n") + "\n"
	zero := 0
	return &dataset.Candidate{TaskID: f.problem().TaskID, Index: &zero, Completion: &body}
}
