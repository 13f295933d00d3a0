package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/trainer"
)

// Every command has --help, and the help names its flags.
func TestHelp(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "label"},
		{[]string{"label"}, "--candidates"},
		{[]string{"bench"}, "sandbox"},
		{[]string{"bench", "sandbox"}, "--limit"},
		{[]string{"version"}, "CPython"},
		{[]string{"rank"}, "--tests"},
		{[]string{"eval"}, "--scores"},
		{[]string{"rank"}, "--model-dir"},
		{[]string{"train"}, "--loss"},
		{[]string{"train"}, "--extra-share"},
		{[]string{"cv"}, "--folds"},
		{[]string{"mutate"}, "--per"},
		{[]string{"mutate"}, "--response"},
		{[]string{"export-rrtf"}, "--scores"},
		{[]string{"bench", "ranker"}, "--repeats"},
		{[]string{"bench", "hybrid"}, "--problems"},
		{[]string{"fuse"}, "--no-examples"},
		{nil, "--cpu-profile"},
		{[]string{"rank"}, "--self-inputs"},
		{[]string{"train"}, "--[no-]calibrate"},
		{[]string{"generalization"}, "--no-model"},
		{[]string{"bench", "ranker"}, "--end-to-end"},
		{[]string{"bench", "hybrid"}, "--self-inputs"},
		{[]string{"train"}, "--half"},
		{[]string{"rank"}, "--calibration"},
		{[]string{"generalization"}, "--cross-fit"},
	} {
		var out bytes.Buffer
		var cl cli
		exited := false
		p, err := kong.New(&cl, append(options(), kong.Writers(&out, &out), kong.Exit(func(int) { exited = true }))...)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = p.Parse(append(c.args, "--help"))
		if !exited || !strings.Contains(out.String(), c.want) {
			t.Errorf("%v --help: exited=%v, output lacks %q:\n%s", c.args, exited, c.want, out.String())
		}
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"512MiB": 512 << 20, "1GiB": 1 << 30, "64M": 64 << 20, "1048576": 1 << 20, "1.5KiB": 1536} {
		var b ByteSize
		if err := b.UnmarshalText([]byte(in)); err != nil || int64(b) != want {
			t.Errorf("%q: %d %v, want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-5MiB", "0"} {
		var b ByteSize
		if err := b.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// A model folder's tokenizer is reused for the texts it was trained on and
// trained anew for others: a recipe whose data changed, trained into an old
// folder, does not inherit the old data's tokenizer.
func TestTokenizerFollowsTheTexts(t *testing.T) {
	dir := t.TempDir()
	probs := func(code string) []*trainer.Problem {
		l := &dataset.Label{Passed: true}
		return []*trainer.Problem{{TaskID: "t", Text: "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n", Rows: []trainer.Row{
			{Key: dataset.Key{TaskID: "t"}, Code: code, Label: l},
		}}}
	}
	var f trainFlags
	path := filepath.Join(dir, "tokenizer.json")
	read := func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if _, err := f.tokenizer(dir, probs("    return a + b\n"), 300); err != nil {
		t.Fatal(err)
	}
	first := read()
	// Reused: a file changed on disk is read back, not retrained.
	if err := os.WriteFile(path, []byte(strings.Replace(first, "{", "{ ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.tokenizer(dir, probs("    return a + b\n"), 300); err != nil {
		t.Fatal(err)
	}
	if read() == first {
		t.Fatal("the same texts retrained the tokenizer instead of reusing it")
	}
	// Other texts: trained anew.
	if _, err := f.tokenizer(dir, probs("    total = a\n    total += b\n    return total  # sum of both\n"), 300); err != nil {
		t.Fatal(err)
	}
	if got := read(); got == first || strings.HasPrefix(got, "{ ") {
		t.Fatal("other texts kept the old tokenizer")
	}
}
