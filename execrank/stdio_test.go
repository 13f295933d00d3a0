package execrank

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/sandbox"
)

func TestExtractStdioExamples(t *testing.T) {
	apps := "Sum the numbers.\n\n-----Input-----\n\nThe first line has n.\n\n-----Output-----\n\nPrint the sum.\n\n-----Examples-----\nInput\n3\n1 2 3\n\nOutput\n6\n\nInput\n1\n5\nOutput\n5\n\n-----Note-----\n\nIn the first example 1+2+3 = 6.\n"
	got := ExtractStdioExamples(apps)
	want := []dataset.IOCase{{Input: "3\n1 2 3\n", Output: "6\n"}, {Input: "1\n5\n", Output: "5\n"}}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("example %d: %q, want %q", i, got[i], want[i])
		}
	}
	cc := "Print twice n.\n\nExample\n\nInput\n\n2\n\n\nOutput\n\n4\n"
	if g := ExtractStdioExamples(cc); len(g) != 1 || g[0].Input != "2\n" || g[0].Output != "4\n" {
		t.Errorf("CodeContests form: %q", g)
	}
	sample := "Sample Input 1:\n1 1\nSample Output 1:\n2\nSample Input 2:\n2 3\nSample Output 2:\n5\n"
	if g := ExtractStdioExamples(sample); len(g) != 2 || g[1].Output != "5\n" {
		t.Errorf("Sample Input N form: %q", g)
	}
	// The section headers of the statement itself ("-----Input-----") are
	// not examples.
	if g := ExtractStdioExamples("-----Input-----\nn\n-----Output-----\nthe answer\n"); len(g) != 0 {
		t.Errorf("format description taken as an example: %q", g)
	}
}

func TestProbeStdio(t *testing.T) {
	sb, err := sandbox.New(context.Background(), sandbox.Config{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	p := &dataset.Problem{TaskID: "S/0"}
	ex := []dataset.IOCase{{Input: "3\n1 2 3\n", Output: "6\n"}, {Input: "1\n5\n", Output: "5\n"}}
	sol := func(s string) *dataset.Candidate { return &dataset.Candidate{TaskID: "S/0", Solution: &s} }
	right, err := ProbeStdio(context.Background(), sb, p, sol("input()\nprint(sum(map(int, input().split())))\n"), ex, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	wrong, _ := ProbeStdio(context.Background(), sb, p, sol("input()\nprint(max(map(int, input().split())))\n"), ex, nil, 0)
	loop, _ := ProbeStdio(context.Background(), sb, p, sol("while True:\n    pass\n"), ex[:1], nil, 0)
	if !right.Held[0] || !right.Held[1] || wrong.Held[0] || !wrong.Held[1] || loop.Held[0] {
		t.Fatalf("held: right %v wrong %v loop %v", right.Held, wrong.Held, loop.Held)
	}
	if right.Sigs[1] != wrong.Sigs[1] || right.Sigs[0] == wrong.Sigs[0] || loop.Sigs[0] != "!timeout" {
		t.Errorf("signatures: %v %v %v", right.Sigs, wrong.Sigs, loop.Sigs)
	}
}

// toppass's own stdin inputs keep the examples' layout and counts, and
// separate programs that agree on the examples.
func TestSelfStdin(t *testing.T) {
	ex := []dataset.IOCase{{Input: "3\n4 10 7\n", Output: "21\n"}}
	ins := SelfStdin(ex, 8)
	if len(ins) < 4 {
		t.Fatalf("%d inputs: %q", len(ins), ins)
	}
	for _, in := range ins {
		lines := strings.Split(in, "\n")
		if len(lines) != 3 || lines[0] != "3" || len(strings.Fields(lines[1])) != 3 {
			t.Errorf("%q: the layout or the count changed", in)
		}
	}
	if !slices.Equal(ins, SelfStdin(ex, 8)) {
		t.Error("not deterministic")
	}

	sb, err := sandbox.New(context.Background(), sandbox.Config{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	p := &dataset.Problem{TaskID: "S/1", Description: "Sum the numbers.\n\nInput\n3\n4 10 7\n\nOutput\n21\n"}
	progs := []string{
		"input()\nprint(sum(map(int, input().split())))\n",
		"n = int(input())\nxs = [int(x) for x in input().split()]\nt = 0\nfor x in xs:\n    t += x\nprint(t)\n",
		"input()\nprint(21)\n",
		"input()\nxs = sorted(map(int, input().split()))\nprint(xs[-1] * 2 + 1)\n",
	}
	var cands []*dataset.Candidate
	for i, s := range progs {
		idx, src := i, s
		cands = append(cands, &dataset.Candidate{TaskID: p.TaskID, Index: &idx, Solution: &src})
	}
	lines, err := Evidence(context.Background(), sb, p, cands, EvidenceConfig{Examples: true, SelfInputs: 8, Workers: 2, Budget: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		if l.ExamplesPassed != 1 {
			t.Fatalf("candidate %d fails the example: %+v", i, l)
		}
	}
	if lines[0].Behaviour != lines[1].Behaviour || lines[0].Behaviour <= lines[2].Behaviour || lines[0].Behaviour <= lines[3].Behaviour {
		t.Errorf("behaviour does not separate: %+v", lines)
	}
}
