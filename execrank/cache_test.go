package execrank

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
)

// A second run answers every probe from the cache with the same features,
// and a candidate added later is the only one probed.
func TestProbeCacheIsIncremental(t *testing.T) {
	path := filepath.Join(t.TempDir(), "probes.jsonl")
	run := func(cands string) (map[string][]ScoreLine, int) {
		c, err := OpenProbeCache(path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		lines, _, err := Features(context.Background(), RankConfig{Method: MethodExec, Problems: "testdata/problems.jsonl",
			Candidates: cands, Tests: "testdata/tests.jsonl", Workers: 2, Cache: c})
		if err != nil {
			t.Fatal(err)
		}
		return lines, c.Hits()
	}
	first, hits := run("testdata/candidates.jsonl")
	if hits != 0 {
		t.Fatalf("first run: %d cache hits", hits)
	}
	got := first["T/0"]
	if len(got) != 3 || got[0].ExamplesPassed != 1 || got[1].ExamplesPassed != 0 || got[0].Passed != 3 || got[0].Cluster != 2 {
		t.Fatalf("features %+v", got)
	}
	again, hits := run("testdata/candidates.jsonl")
	if hits != 3 || !reflect.DeepEqual(again, first) {
		t.Fatalf("second run: %d hits, %+v", hits, again)
	}
	more, hits := run("testdata/candidates-more.jsonl")
	if hits != 3 || len(more["T/0"]) != 4 {
		t.Fatalf("with a new candidate: %d hits, %d lines", hits, len(more["T/0"]))
	}
	if more["T/0"][0].Agreement != first["T/0"][0].Agreement {
		t.Errorf("agreement changed: %v -> %v", first["T/0"][0].Agreement, more["T/0"][0].Agreement)
	}
}
