package execrank

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/sandbox"
)

func TestExtractAsserts(t *testing.T) {
	samples := []string{
		"\n",
		"\n    f([], 1) == False, 'empty'\nassert \n    f([1], 1) == True\n",
		"f(1) == 2\nassert f(2) == 3\nassert g(1) == 1\nassert f(1) == 2\nassert f(3) == 4\nassert f(4) == 5\nassert f(5) == 6\nassert f(6) == 7\n",
		"____ == ____\n",
	}
	got := ExtractAsserts(samples, "f", 5)
	want := []string{"assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4", "assert f(4) == 5"}
	// The third sample's 5 kept asserts: f(1), f(2), f(1) again, f(3),
	// f(4); f(5) and f(6) are past the limit.
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := ExtractAsserts([]string{"Solution().twoSum([1], 1) == []"}, "Solution().twoSum", 5); len(got) != 1 {
		t.Fatalf("method entry: %q", got)
	}
}

func TestDualAgreement(t *testing.T) {
	T, F := true, false
	results := [][]bool{
		{T, T, F}, // set A: 3 members, 2 tests
		{T, T, F},
		{T, T, F},
		{T, T, T}, // set B: 1 member, 3 tests
		{F, F, F}, // passes nothing
		{F, F, T}, // set D: 1 member, 1 test
	}
	want := []float64{6, 6, 6, 3, 0, 1}
	if got := DualAgreement(results); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestClusterSizes(t *testing.T) {
	got := ClusterSizes([][]string{{"a", "b"}, {"a", "b"}, {"a", "c"}, {"!E", "!E"}, {"", ""}, {"a", "b"}})
	if want := []int{3, 3, 1, 0, 0, 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestProbeInSandbox(t *testing.T) {
	sb, err := sandbox.New(context.Background(), sandbox.Config{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	p := &dataset.Problem{TaskID: "t", Prompt: "def inc(x):\n", EntryPoint: "inc"}
	tests := []string{
		"assert inc(1) == 2",
		"assert inc(1) == 3",
		"assert inc('a') == 'b'", // TypeError: fails, the rest still run
		"assert inc(0) == 1",
		"assert inc(", // not Python: fails
		"assert inc(-1) == 0",
	}
	code := "    print('noise')\n    return x + 1\n"
	zero := 0
	calls := CallsOf(tests, "inc")
	if want := []string{"inc(1)", "inc('a')", "inc(0)", "inc(-1)"}; !reflect.DeepEqual(calls, want) {
		t.Fatalf("calls %q", calls)
	}
	r, err := Probe(context.Background(), sb, p, &dataset.Candidate{TaskID: "t", Index: &zero, Completion: &code}, tests, calls, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, false, false, true, false, true}; !reflect.DeepEqual(r.Held, want) {
		t.Fatalf("held %v, want %v", r.Held, want)
	}
	if r.Sigs[1] != "!TypeError" || len(r.Sigs[0]) != 8 || r.Sigs[0] == r.Sigs[2] {
		t.Fatalf("signatures %q", r.Sigs)
	}
	// The same behaviour written differently has the same signature.
	code2 := "    return 1 + x\n"
	r2, _ := Probe(context.Background(), sb, p, &dataset.Candidate{TaskID: "t", Index: &zero, Completion: &code2}, tests, calls, 0)
	if !reflect.DeepEqual(r.Sigs, r2.Sigs) {
		t.Fatalf("signatures differ: %q vs %q", r.Sigs, r2.Sigs)
	}
	// An always-equal object holds no test; a loop holds none it did not reach.
	cheat := "    class E:\n        def __eq__(s, o): return True\n    return E()\n"
	r, _ = Probe(context.Background(), sb, p, &dataset.Candidate{TaskID: "t", Index: &zero, Completion: &cheat}, tests, nil, 0)
	for i, h := range r.Held {
		if h {
			t.Errorf("always-equal object held test %d", i)
		}
	}
	loop := "    while x == 0:\n        pass\n    return x + 1\n"
	r, _ = Probe(context.Background(), sb, p, &dataset.Candidate{TaskID: "t", Index: &zero, Completion: &loop}, tests, nil, 0)
	if want := []bool{true, false, false, false, false, false}; !reflect.DeepEqual(r.Held, want) {
		t.Fatalf("looping candidate: %v, want %v", r.Held, want)
	}
}
