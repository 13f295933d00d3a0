package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A problem set on disk, as the daemon watches it, has one of two layouts.
//
// JSONL: the folder holds problems.jsonl (or problems.jsonl.gz) and
// candidates.jsonl, in the formats `toppass label` reads. Appending lines
// to candidates.jsonl adds candidates.
//
// A folder per problem: every sub-folder that holds a prompt.py is a
// problem, its task id the sub-folder's path relative to the set:
//
//	prompt.py        the signature and docstring a completion continues
//	                 (or, for stdin/stdout problems, the statement)
//	tests.py         check(candidate), or plain asserts naming the function
//	examples/N.in    stdin/stdout problems: input N ...
//	examples/N.out   ... and its expected output
//	candidates/*.py  one candidate per file
//
// The entry point is the last top-level function that prompt.py defines
// (a line "# entry_point: NAME" in prompt.py overrides it). A candidate
// file that defines the entry point at top level is a whole program; any
// other continues the prompt. A candidate's index is its file name when
// that is a number (candidates/3.py is #3), else a stable hash of the name.

// SetLayout names the layout of a set folder.
type SetLayout string

const (
	LayoutJSONL   SetLayout = "jsonl"
	LayoutFolders SetLayout = "folders"
)

// DetectLayout tells which layout dir has.
func DetectLayout(dir string) (SetLayout, error) {
	for _, name := range []string{"problems.jsonl", "problems.jsonl.gz"} {
		if isRegular(filepath.Join(dir, name)) {
			return LayoutJSONL, nil
		}
	}
	st, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%s is not a folder", dir)
	}
	return LayoutFolders, nil
}

func isRegular(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// ReadSet reads a problem set folder in either layout. Problems and
// candidates that cannot be read are reported to onErr (file:line, or the
// file) and left out; the rest is returned.
func ReadSet(dir string, onErr func(*LineError) error) ([]*Problem, []*Candidate, error) {
	layout, err := DetectLayout(dir)
	if err != nil {
		return nil, nil, err
	}
	if layout == LayoutJSONL {
		return readJSONLSet(dir, onErr)
	}
	return readFolderSet(dir, onErr)
}

func readJSONLSet(dir string, onErr func(*LineError) error) ([]*Problem, []*Candidate, error) {
	path := filepath.Join(dir, "problems.jsonl")
	if !isRegular(path) {
		path += ".gz"
	}
	probs, order, err := ReadProblems(path, onErr)
	if err != nil {
		return nil, nil, err
	}
	var ps []*Problem
	for _, id := range order {
		ps = append(ps, probs[id])
	}
	var cands []*Candidate
	cpath := filepath.Join(dir, "candidates.jsonl")
	if !isRegular(cpath) {
		return ps, nil, nil
	}
	err = ReadCandidates(cpath, func(c *Candidate) error {
		if probs[c.TaskID] == nil {
			return fmt.Errorf("unknown task_id %q (not in %s)", c.TaskID, filepath.Base(path))
		}
		cands = append(cands, c)
		return nil
	}, onErr)
	return ps, cands, err
}

var (
	topDef        = regexp.MustCompile(`(?m)^(?:async\s+)?def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(`)
	entryOverride = regexp.MustCompile(`(?m)^#\s*entry_point:\s*([A-Za-z_][A-Za-z0-9_.()]*)\s*$`)
)

func readFolderSet(dir string, onErr func(*LineError) error) ([]*Problem, []*Candidate, error) {
	var ps []*Problem
	var cands []*Candidate
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // vanished while we walked
			}
			return onErr(&LineError{File: path, Err: err})
		}
		if !d.IsDir() || strings.HasPrefix(d.Name(), ".") && path != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !isRegular(filepath.Join(path, "prompt.py")) {
			return nil
		}
		task, _ := filepath.Rel(dir, path)
		task = filepath.ToSlash(task)
		if task == "." {
			task = filepath.Base(dir)
		}
		p, cs, err := readProblemFolder(path, task)
		if err != nil {
			if herr := onErr(&LineError{File: path, Err: err}); herr != nil {
				return herr
			}
			return filepath.SkipDir
		}
		ps = append(ps, p)
		cands = append(cands, cs...)
		return filepath.SkipDir // a problem's folder holds no other problems
	})
	return ps, cands, err
}

func readProblemFolder(dir, task string) (*Problem, []*Candidate, error) {
	prompt, err := os.ReadFile(filepath.Join(dir, "prompt.py"))
	if err != nil {
		return nil, nil, err
	}
	p := &Problem{TaskID: task, Prompt: string(prompt)}
	if m := entryOverride.FindStringSubmatch(p.Prompt); m != nil {
		p.EntryPoint = m[1]
	} else if all := topDef.FindAllStringSubmatch(p.Prompt, -1); len(all) > 0 {
		p.EntryPoint = all[len(all)-1][1]
	}
	tests, terr := os.ReadFile(filepath.Join(dir, "tests.py"))
	examples, eerr := readExamples(filepath.Join(dir, "examples"))
	switch {
	case terr == nil:
		if strings.TrimSpace(string(tests)) == "" {
			return nil, nil, errors.New("tests.py is empty")
		}
		if p.EntryPoint == "" {
			return nil, nil, errors.New("prompt.py defines no function to test (add '# entry_point: NAME')")
		}
		p.Test = string(tests)
	case !errors.Is(terr, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("tests.py: %w", terr)
	case eerr != nil:
		return nil, nil, eerr
	case len(examples) > 0:
		p.Tests = examples
	default:
		return nil, nil, errors.New("no tests: need tests.py or examples/*.in with *.out")
	}
	// The same checks as a JSONL problem.
	raw, _ := json.Marshal(p)
	if _, err := ParseProblem(raw); err != nil {
		return nil, nil, err
	}
	cands, err := readCandidateFiles(filepath.Join(dir, "candidates"), p)
	return p, cands, err
}

func readExamples(dir string) ([]IOCase, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []IOCase
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".in") {
			continue
		}
		in, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		outName := strings.TrimSuffix(e.Name(), ".in") + ".out"
		want, err := os.ReadFile(filepath.Join(dir, outName))
		if err != nil {
			return nil, fmt.Errorf("examples/%s has no %s", e.Name(), outName)
		}
		out = append(out, IOCase{Input: string(in), Output: string(want)})
	}
	return out, nil
}

func readCandidateFiles(dir string, p *Problem) ([]*Candidate, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Candidate
	seen := map[int]string{}
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".py") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while we read
		}
		if err != nil {
			return nil, err
		}
		idx := CandidateIndex(e.Name())
		if prev, dup := seen[idx]; dup {
			return nil, fmt.Errorf("candidates %s and %s have the same index %d", prev, e.Name(), idx)
		}
		seen[idx] = e.Name()
		code := string(b)
		c := &Candidate{TaskID: p.TaskID, Index: &idx, File: path, Line: 1}
		if p.Kind() == KindStdio || DefinesEntry(code, p.EntryPoint) {
			c.Solution = &code
		} else {
			c.Completion = &code
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return *out[i].Index < *out[j].Index })
	return out, nil
}

// CandidateIndex is the index of candidate file name: the number it is
// named after, or a stable 31-bit hash of the name.
func CandidateIndex(name string) int {
	base := strings.TrimSuffix(name, ".py")
	if n, err := strconv.Atoi(base); err == nil && n >= 0 && n < 1<<30 {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(base))
	return int(h.Sum32()>>1) | 1<<30
}

// DefinesEntry reports whether code defines the entry point (its last
// dotted part for "Solution().f") at top level: a whole program rather
// than a completion of the prompt.
func DefinesEntry(code, entry string) bool {
	if entry == "" {
		return false
	}
	name := entry
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	for _, m := range topDef.FindAllStringSubmatch(code, -1) {
		if m[1] == name {
			return true
		}
	}
	return false
}
