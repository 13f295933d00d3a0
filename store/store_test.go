package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/toppass/toppass/dataset"
)

func open(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "toppass.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func cand(task string, i int, code string) *dataset.Candidate {
	return &dataset.Candidate{TaskID: task, Index: &i, Completion: &code, File: "c.jsonl", Line: i + 1}
}

func TestSyncPendingLabels(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	set, err := s.AddSet(ctx, "/data/set")
	if err != nil {
		t.Fatal(err)
	}
	p := &dataset.Problem{TaskID: "t/1", Prompt: "def f(x):\n", EntryPoint: "f", Test: "def check(c):\n    assert c(1) == 2\n"}
	cands := []*dataset.Candidate{cand("t/1", 0, "    return x + 1\n"), cand("t/1", 1, "    return x\n")}
	res, err := s.Sync(ctx, set.ID, []*dataset.Problem{p}, cands)
	if err != nil || res.Problems != 1 || res.NewCandidates != 2 {
		t.Fatalf("sync: %+v %v", res, err)
	}
	const env = "env1"
	pend, err := s.Pending(ctx, 0, env, 10)
	if err != nil || len(pend) != 2 || pend[0].Problem.EntryPoint != "f" || *pend[1].Candidate.Completion != "    return x\n" {
		t.Fatalf("pending: %v %v", pend, err)
	}
	l := &dataset.Label{TaskID: "t/1", Index: 0, Passed: true, Status: "pass"}
	if err := s.PutLabels(ctx, env, []Labelled{{pend[0].ProblemHash, pend[0].CandHash, l}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountPending(ctx, 0, env); n != 1 {
		t.Fatalf("%d pending after one label", n)
	}
	if n, _ := s.CountPending(ctx, 0, "env2"); n != 2 {
		t.Fatalf("another environment shares labels: %d pending", n)
	}
	// The same sync again changes nothing; a changed candidate is pending
	// again; a removed one is no longer active.
	if res, _ := s.Sync(ctx, set.ID, []*dataset.Problem{p}, cands); *res != (SyncResult{}) {
		t.Fatalf("resync: %+v", res)
	}
	changed := []*dataset.Candidate{cand("t/1", 0, "    return 1 + x\n")}
	res, err = s.Sync(ctx, set.ID, []*dataset.Problem{p}, changed)
	if err != nil || res.Changed != 1 || res.Removed != 1 {
		t.Fatalf("change: %+v %v", res, err)
	}
	if n, _ := s.CountPending(ctx, 0, env); n != 1 {
		t.Fatalf("%d pending after the change, want 1", n)
	}
	// Changing it back finds the old label: nothing runs twice.
	if _, err := s.Sync(ctx, set.ID, []*dataset.Problem{p}, cands[:1]); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountPending(ctx, 0, env); n != 0 {
		t.Fatalf("%d pending after restoring a labelled candidate", n)
	}
	var exported []*dataset.Label
	if err := s.EachLabel(ctx, env, func(l *dataset.Label) error { exported = append(exported, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(exported) != 1 || !exported[0].Passed || exported[0].TaskID != "t/1" {
		t.Fatalf("export: %+v", exported)
	}
	if v, err := s.IntegrityCheck(ctx); err != nil || v != "ok" {
		t.Fatalf("integrity: %q %v", v, err)
	}
}

func TestJobsQueue(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	train, _, _ := s.AddJob(ctx, "train", PriorityTrain, nil, false)
	label, _, _ := s.AddJob(ctx, "label", PriorityLabel, map[string]int{"set": 1}, true)
	again, added, _ := s.AddJob(ctx, "label", PriorityLabel, map[string]int{"set": 1}, true)
	if added || again.ID != label.ID {
		t.Fatalf("duplicate job queued: %+v", again)
	}
	j, err := s.NextJob(ctx)
	if err != nil || j.ID != label.ID || j.State != JobRunning {
		t.Fatalf("next: %+v %v", j, err)
	}
	// A daemon that dies leaves it running; the next one queues it again.
	if n, _ := s.RequeueRunning(ctx); n != 1 {
		t.Fatalf("requeued %d", n)
	}
	j, _ = s.NextJob(ctx, "train")
	if j == nil || j.ID != train.ID {
		t.Fatalf("next train: %+v", j)
	}
	if err := s.FinishJob(ctx, j.ID, JobDone, ""); err != nil {
		t.Fatal(err)
	}
	jobs, _ := s.Jobs(ctx, 5)
	if len(jobs) != 2 || jobs[0].State != JobDone || jobs[1].State != JobQueued {
		t.Fatalf("jobs: %+v %+v", jobs[0], jobs[1])
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "model", "m1"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Meta(ctx, "model"); v != "m1" {
		t.Fatalf("meta after reopen: %q", v)
	}
}
