package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/store"
)

// seedDashboard writes a problem set folder of nprob problems with ncand
// candidates each and puts, in the daemon's store, those candidates with a
// label each (a third pass) in the daemon's environment, and two
// evaluations' scores and summaries (neural and lexical under the shipped
// model): a daemon started on it has nothing to label and a full
// dashboard. The labels and scores are made up; what the benchmark
// measures is reading them.
func seedDashboard(tb testing.TB, nprob, ncand int) func(Paths, Config) {
	return func(paths Paths, cfg Config) {
		ctx := context.Background()
		dir := filepath.Join(filepath.Dir(paths.Data), "set")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		var pb, cb strings.Builder
		for i := range nprob {
			task := fmt.Sprintf("bench/%04d", i)
			p := dataset.Problem{TaskID: task, Prompt: fmt.Sprintf("def f(x):\n    \"\"\"Problem %d.\n    >>> f(1)\n    2\n    \"\"\"\n", i),
				EntryPoint: "f", Test: "def check(candidate):\n    assert candidate(1) == 2\n"}
			b, _ := json.Marshal(p)
			pb.Write(append(b, '\n'))
			for j := range ncand {
				code := fmt.Sprintf("    y = x + %d\n    return y - %d + 1\n", j, j%3)
				b, _ := json.Marshal(dataset.Candidate{TaskID: task, Completion: &code})
				cb.Write(append(b, '\n'))
			}
		}
		os.WriteFile(filepath.Join(dir, "problems.jsonl"), []byte(pb.String()), 0o644)
		os.WriteFile(filepath.Join(dir, "candidates.jsonl"), []byte(cb.String()), 0o644)
		probs, cands, err := dataset.ReadSet(dir, func(e *dataset.LineError) error { return e })
		if err != nil {
			tb.Fatal(err)
		}
		st, err := store.Open(ctx, paths.DB())
		if err != nil {
			tb.Fatal(err)
		}
		defer st.Close()
		set, err := st.AddSet(ctx, dir)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := st.Sync(ctx, set.ID, probs, cands); err != nil {
			tb.Fatal(err)
		}
		env := envKey(cfg)
		byTask := map[string][]*dataset.Candidate{}
		for _, c := range cands {
			byTask[c.TaskID] = append(byTask[c.TaskID], c)
		}
		for _, p := range probs {
			ph := store.ProblemHash(p)
			var ls []store.Labelled
			neural, lexical := make([]store.Score, 0, ncand), make([]store.Score, 0, ncand)
			for j, c := range byTask[p.TaskID] {
				ch := store.CandidateHash(c)
				l := &dataset.Label{Passed: j%3 == 2, Status: "pass"}
				if !l.Passed {
					l.Status, l.ExecError, l.ErrorLine = "error", "TypeError", 2
				}
				ls = append(ls, store.Labelled{ProblemHash: ph, CandHash: ch, Label: l})
				ev, _ := json.Marshal(Ranked{Index: j, Examples: 1, ExamplesPassed: j % 2})
				neural = append(neural, store.Score{CandHash: ch, Score: float64(j%10) / 10, PPass: float64(j%10) / 10, Rank: j + 1, Data: ev})
				lexical = append(lexical, store.Score{CandHash: ch, Score: float64(ncand-j) / float64(ncand), PPass: -1, Rank: ncand - j, Data: ev})
			}
			if err := st.PutLabels(ctx, env, ls); err != nil {
				tb.Fatal(err)
			}
			if err := st.PutScores(ctx, set.ID, shippedModel, "neural", ph, neural); err != nil {
				tb.Fatal(err)
			}
			if err := st.PutScores(ctx, set.ID, shippedModel, "lexical", ph, lexical); err != nil {
				tb.Fatal(err)
			}
		}
		for _, m := range []string{"neural", "lexical"} {
			sum := EvalSummary{Problems: nprob, Candidates: nprob * ncand}
			for k := 1; k <= evalKs; k++ {
				sum.Ranked = append(sum.Ranked, 30+float64(k))
				sum.Random = append(sum.Random, 20+float64(k))
				sum.Oracle = append(sum.Oracle, 100)
			}
			data, _ := json.Marshal(sum)
			if err := st.PutEval(ctx, &store.Eval{SetID: set.ID, Model: shippedModel, Method: m, Data: data}); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// BenchmarkDashboardPages loads every page of the dashboard of a daemon
// whose store holds 50,000 labels (500 problems x 100 candidates) and
// reports each page's server time (the Server-Timing header: reading the
// store and rendering) at p50 and p95, and the first, cold load (the
// views that scan the store are made then and kept until it changes).
func BenchmarkDashboardPages(b *testing.B) {
	c, stop := runInProcess(b, seedDashboard(b, 500, 100))
	defer stop()
	var st Status
	if err := c.Call(context.Background(), MethodStatus, nil, &st); err != nil {
		b.Fatal(err)
	}
	if st.Labels != 50000 {
		b.Fatalf("the store holds %d labels, want 50000", st.Labels)
	}
	u, _ := url.Parse(st.DashboardURL)
	token := u.Query().Get("token")
	base := strings.TrimSuffix(st.DashboardURL[:strings.Index(st.DashboardURL, "?")], "/")
	pages := []string{"/", "/sets", "/sets/1", "/sets/1?show=top1-fails&sort=passrate", "/sets/1/problem?task=bench%2F0250",
		"/model", "/compare?set=1&a=shipped:neural&b=shipped:lexical"}
	get := func(p string) float64 {
		req, _ := http.NewRequest("GET", base+p, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %s", p, resp.Status)
		}
		v, err := strconv.ParseFloat(strings.TrimPrefix(resp.Header.Get("Server-Timing"), "app;dur="), 64)
		if err != nil {
			b.Fatalf("%s: Server-Timing %q", p, resp.Header.Get("Server-Timing"))
		}
		return v
	}
	for _, p := range pages {
		name := strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-").Replace(p)
		b.Run(name, func(b *testing.B) {
			start := time.Now()
			cold := get(p)
			coldWall := time.Since(start)
			var ms []float64
			for b.Loop() {
				ms = append(ms, get(p))
			}
			slices.Sort(ms)
			b.ReportMetric(ms[len(ms)/2], "p50-ms")
			b.ReportMetric(ms[len(ms)*95/100], "p95-ms")
			b.ReportMetric(float64(coldWall.Microseconds())/1000, "cold-ms")
			_ = cold
		})
	}
}
