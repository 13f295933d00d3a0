package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/internal/svgplot"
	"github.com/toppass/toppass/metrics"
	"github.com/toppass/toppass/store"
	"github.com/toppass/toppass/trainer"
)

// The dashboard's pages: one handler each, reading the store (through the
// memo for what scans it) and rendering a template of web/.

var pageNames = []string{"overview", "sets", "set", "problem", "model", "compare"}

var funcs = template.FuncMap{
	"pct":  func(x float64) string { return fmt.Sprintf("%.1f", x) },
	"f2":   func(x float64) string { return fmt.Sprintf("%.2f", x) },
	"f3":   func(x float64) string { return fmt.Sprintf("%.3f", x) },
	"frac": func(a, b int) float64 { return 100 * float64(a) / float64(max(1, b)) },
	"when": func(ms int64) string {
		if ms == 0 {
			return "never"
		}
		return time.UnixMilli(ms).Format("2006-01-02 15:04:05")
	},
	"add":     func(a, b int) int { return a + b },
	"metrics": metricsText,
}

// metricsText writes a model's recorded metrics (a JSON object) as short
// "name value" items, in name order.
func metricsText(raw json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		if f, ok := v.(float64); ok {
			if f == math.Trunc(f) {
				v = int64(f)
			} else {
				v = fmt.Sprintf("%.2f", f)
			}
		}
		parts = append(parts, fmt.Sprintf("%s %v", strings.ReplaceAll(k, "_", " "), v))
	}
	return strings.Join(parts, " · ")
}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(webFS, "web/layout.html", "web/"+name+".html")
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

// pageData is what every page's template gets.
type pageData struct {
	Title   string
	Nav     string
	CSRF    string
	Version string
	Model   string
	Error   string
	Data    any
}

// render executes a page's template; Server-Timing carries the time since
// the request came in (reading the store and rendering).
func (db *dashboard) render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	start, ok := r.Context().Value(startKey{}).(time.Time)
	if !ok {
		start = time.Now()
	}
	var b strings.Builder
	pd := pageData{Title: title, Nav: name, CSRF: db.csrf, Version: Version, Model: db.d.models.currentID(),
		Error: r.URL.Query().Get("error"), Data: data}
	if name == "set" || name == "problem" {
		pd.Nav = "sets"
	}
	if err := db.pages[name].ExecuteTemplate(&b, "layout", pd); err != nil {
		db.fail(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Server-Timing", fmt.Sprintf("app;dur=%.2f", float64(time.Since(start).Microseconds())/1000))
	fmt.Fprint(w, b.String())
}

func (db *dashboard) fail(w http.ResponseWriter, err error) {
	db.d.log.Warn("dashboard page failed", "err", err)
	db.refuse(w, http.StatusInternalServerError, "The page failed: "+err.Error())
}

func (db *dashboard) notFound(w http.ResponseWriter, msg string) {
	db.refuse(w, http.StatusNotFound, msg)
}

// Views that scan the store, through the memo.

func (db *dashboard) counts(ctx context.Context) (labels, pending int, err error) {
	v, err := db.memo.get("counts", db.d.st.Version(), func() (any, error) {
		l, _, err := db.d.st.LabelStats(context.Background())
		if err != nil {
			return nil, err
		}
		p, err := db.d.st.CountPending(context.Background(), 0, db.d.env)
		return [2]int{l, p}, err
	})
	if err != nil {
		return 0, 0, err
	}
	c := v.([2]int)
	return c[0], c[1], nil
}

func (db *dashboard) setSummaries() ([]*store.SetSummary, error) {
	v, err := db.memo.get("sets", db.d.st.Version(), func() (any, error) {
		return db.d.st.SetSummaries(context.Background(), db.d.env)
	})
	if err != nil {
		return nil, err
	}
	return v.([]*store.SetSummary), nil
}

func (db *dashboard) problemSummaries(set int64, model, method string) ([]*store.ProblemSummary, error) {
	key := fmt.Sprintf("problems\x00%d\x00%s\x00%s", set, model, method)
	v, err := db.memo.get(key, db.d.st.Version(), func() (any, error) {
		return db.d.st.ProblemSummaries(context.Background(), set, db.d.env, model, method)
	})
	if err != nil {
		return nil, err
	}
	return v.([]*store.ProblemSummary), nil
}

// evals returns the stored evaluations of set (0: all), decoded.
func (db *dashboard) evals(ctx context.Context, set int64) ([]*evalView, error) {
	es, err := db.d.st.Evals(ctx, set)
	if err != nil {
		return nil, err
	}
	out := make([]*evalView, 0, len(es))
	for _, e := range es {
		v := &evalView{Eval: e}
		if err := json.Unmarshal(e.Data, &v.S); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

type evalView struct {
	Eval *store.Eval
	S    EvalSummary
}

func (e *evalView) Key() string { return e.Eval.Model + ":" + e.Eval.Method }

// ---- Overview ----

type overviewData struct {
	St         *Status
	Uptime     string
	LabelsPerS float64
	RateChart  template.HTML
	Sets       []*store.SetSummary
}

// liveStatus is the daemon's status with the memoised counts: what the
// event stream and the page's JSON send, twice a second per client.
func (db *dashboard) liveStatus(ctx context.Context) (*Status, error) {
	labels, pending, err := db.counts(ctx)
	if err != nil {
		return nil, err
	}
	return db.d.statusWith(ctx, labels, pending)
}

// overview is liveStatus with the sets' summaries and the rate chart.
func (db *dashboard) overview(ctx context.Context) (*overviewData, error) {
	st, err := db.liveStatus(ctx)
	if err != nil {
		return nil, err
	}
	sets, err := db.setSummaries()
	if err != nil {
		return nil, err
	}
	hist := db.rate.history()
	xs := make([]float64, len(hist))
	for i := range hist {
		xs[i] = float64(i - len(hist) + 1)
	}
	chart := &svgplot.Chart{Title: "Labels per second, last five minutes", XLabel: "seconds ago", YLabel: "labels/s",
		YMin: 0, YMax: math.Max(1, slices.Max(append(hist, 0))*1.1), Width: 520, Height: 230,
		Series: []svgplot.Series{{Name: "labels/s", X: xs, Y: hist}}}
	return &overviewData{St: st, Uptime: time.Since(db.d.started).Round(time.Second).String(),
		LabelsPerS: db.rate.perSecond(), RateChart: chart.SVG(), Sets: sets}, nil
}

func (db *dashboard) serveOverview(w http.ResponseWriter, r *http.Request) {
	data, err := db.overview(r.Context())
	if err != nil {
		db.fail(w, err)
		return
	}
	db.render(w, r, "overview", "Overview", data)
}

// serveStatusJSON is the overview's numbers for the page's script.
func (db *dashboard) serveStatusJSON(w http.ResponseWriter, r *http.Request) {
	st, err := db.liveStatus(r.Context())
	if err != nil {
		db.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	st.DashboardURL = "" // the token stays out of what a page can read
	json.NewEncoder(w).Encode(map[string]any{"status": st, "labels_per_s": db.rate.perSecond()})
}

// ---- Problem sets ----

type setsData struct {
	Sets    []*store.SetSummary
	Evals   map[int64][]*evalView
	Methods []string
}

func (db *dashboard) serveSets(w http.ResponseWriter, r *http.Request) {
	sets, err := db.setSummaries()
	if err != nil {
		db.fail(w, err)
		return
	}
	evs, err := db.evals(r.Context(), 0)
	if err != nil {
		db.fail(w, err)
		return
	}
	cur := db.d.models.currentID()
	by := map[int64][]*evalView{}
	for _, e := range evs {
		if e.Eval.Model == cur {
			by[e.Eval.SetID] = append(by[e.Eval.SetID], e)
		}
	}
	db.render(w, r, "sets", "Problem sets", &setsData{Sets: sets, Evals: by, Methods: db.d.cfg.Dashboard.Methods})
}

type setData struct {
	Set      *store.Set
	Problems []*store.ProblemSummary
	Total    int
	Q        string
	Show     string
	Sort     string
	Method   string
	Methods  []string
	Model    string
	Evals    []*evalView
}

// methodParam returns the ranking method asked for, or the first
// configured.
func (db *dashboard) methodParam(r *http.Request) string {
	m := r.URL.Query().Get("method")
	if slices.Contains(db.d.cfg.Dashboard.Methods, m) {
		return m
	}
	if len(db.d.cfg.Dashboard.Methods) > 0 {
		return db.d.cfg.Dashboard.Methods[0]
	}
	return "neural"
}

// setParam returns the watched set named by the path, or answers 404.
func (db *dashboard) setParam(w http.ResponseWriter, r *http.Request) (*store.Set, bool) {
	id, ok := intParam(r.PathValue("id"))
	if !ok {
		db.notFound(w, "no such set")
		return nil, false
	}
	set, err := db.d.st.SetByID(r.Context(), id)
	if err != nil {
		db.notFound(w, err.Error())
		return nil, false
	}
	return set, true
}

func (db *dashboard) serveSet(w http.ResponseWriter, r *http.Request) {
	set, ok := db.setParam(w, r)
	if !ok {
		return
	}
	id := set.ID
	q := r.URL.Query()
	data := &setData{Set: set, Q: strings.TrimSpace(q.Get("q")), Show: q.Get("show"), Sort: q.Get("sort"),
		Method: db.methodParam(r), Methods: db.d.cfg.Dashboard.Methods, Model: db.d.models.currentID()}
	probs, err := db.problemSummaries(id, data.Model, data.Method)
	if err != nil {
		db.fail(w, err)
		return
	}
	data.Total = len(probs)
	for _, p := range probs {
		if data.Q != "" && !strings.Contains(strings.ToLower(p.TaskID), strings.ToLower(data.Q)) {
			continue
		}
		switch data.Show {
		case "passing":
			if p.Passed == 0 {
				continue
			}
		case "failing":
			if p.Labelled == 0 || p.Passed > 0 {
				continue
			}
		case "unlabelled":
			if p.Labelled == p.Candidates {
				continue
			}
		case "top1-fails":
			if p.Top1 != 0 {
				continue
			}
		default:
			data.Show = ""
		}
		data.Problems = append(data.Problems, p)
	}
	switch data.Sort {
	case "candidates":
		sort.SliceStable(data.Problems, func(i, j int) bool { return data.Problems[i].Candidates > data.Problems[j].Candidates })
	case "passrate":
		rate := func(p *store.ProblemSummary) float64 { return float64(p.Passed) / float64(max(1, p.Labelled)) }
		sort.SliceStable(data.Problems, func(i, j int) bool { return rate(data.Problems[i]) < rate(data.Problems[j]) })
	default:
		data.Sort = ""
	}
	evs, err := db.evals(r.Context(), id)
	if err != nil {
		db.fail(w, err)
		return
	}
	for _, e := range evs {
		if e.Eval.Model == data.Model {
			data.Evals = append(data.Evals, e)
		}
	}
	db.render(w, r, "set", filepath.Base(set.Dir), data)
}

// ---- One problem ----

type candRow struct {
	V        *store.CandidateView
	Code     []codeLine
	Evidence string
	Fault    string
	Status   string
}

// evidence says in words what a ranking saw of a candidate.
func evidence(r *Ranked) string {
	var parts []string
	if r.Examples > 0 {
		parts = append(parts, fmt.Sprintf("examples %d/%d", r.ExamplesPassed, r.Examples))
	}
	if r.Tests > 0 {
		parts = append(parts, fmt.Sprintf("tests %d/%d", r.TestsPassed, r.Tests))
	}
	if r.Agreement > 0 {
		parts = append(parts, fmt.Sprintf("agreement %.2f (group %d)", r.Agreement, r.Cluster))
	}
	if note := r.BehaviourNote(); note != "" {
		parts = append(parts, note)
	}
	if r.SyntaxError {
		parts = append(parts, "syntax error")
	}
	if r.Undefined > 0 {
		parts = append(parts, fmt.Sprintf("%d undefined names", r.Undefined))
	}
	return strings.Join(parts, " · ")
}

type codeLine struct {
	N    int
	Text string
	Fail bool
}

type problemData struct {
	Set     *store.Set
	Problem *dataset.Problem
	Rows    []*candRow
	Method  string
	Methods []string
	Model   string
	Sort    string
	Show    string
	Passed  int
}

func (db *dashboard) serveProblem(w http.ResponseWriter, r *http.Request) {
	set, ok := db.setParam(w, r)
	if !ok {
		return
	}
	id := set.ID
	q := r.URL.Query()
	data := &problemData{Set: set, Method: db.methodParam(r), Methods: db.d.cfg.Dashboard.Methods,
		Model: db.d.models.currentID(), Sort: q.Get("sort"), Show: q.Get("show")}
	prob, views, err := db.d.st.ProblemView(r.Context(), id, q.Get("task"), db.d.env, data.Model, data.Method)
	if err != nil {
		db.notFound(w, err.Error())
		return
	}
	data.Problem = prob
	for _, v := range views {
		row := &candRow{V: v, Status: "pending"}
		code, _ := v.Candidate.Code()
		failLine := 0
		if v.Label != nil {
			row.Status = v.Label.Status
			failLine = v.Label.ErrorLine
			row.Fault = strings.Trim(v.Label.ExecError+" "+v.Label.IntentError, " ")
			if v.Label.Passed {
				data.Passed++
			}
		}
		if data.Show != "" && data.Show != row.Status && !(data.Show == "failing" && v.Label != nil && !v.Label.Passed) {
			continue
		}
		for i, line := range strings.Split(strings.TrimRight(code, "\n"), "\n") {
			row.Code = append(row.Code, codeLine{N: i + 1, Text: line, Fail: i+1 == failLine})
		}
		if v.Score != nil {
			var ev Ranked
			if json.Unmarshal(v.Score.Data, &ev) == nil {
				row.Evidence = evidence(&ev)
			}
		}
		data.Rows = append(data.Rows, row)
	}
	if data.Show != "passed" && data.Show != "failing" && !slices.Contains(dataset.LabelStatuses, data.Show) {
		data.Show = ""
	}
	if data.Sort != "index" {
		data.Sort = ""
		rank := func(c *candRow) int {
			if c.V.Score == nil {
				return math.MaxInt
			}
			return c.V.Score.Rank
		}
		sort.SliceStable(data.Rows, func(i, j int) bool { return rank(data.Rows[i]) < rank(data.Rows[j]) })
	}
	db.render(w, r, "problem", prob.TaskID, data)
}

// ---- Model ----

type modelData struct {
	Models   []*store.Model
	Selected *store.Model
	Curves   []template.HTML
	History  string // why there are no curves
	Sets     []*modelSet
	Training bool
	Jobs     []*store.Job
	// PPass says which P(pass) the hybrid shows; Refit is the last refit
	// to the user's generator (nil: none yet).
	PPass string
	Refit *passRefit
}

type modelSet struct {
	Set   *store.Set
	Evals []*evalView
	Plots []template.HTML
}

func (db *dashboard) serveModel(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	models, err := db.d.st.Models(ctx)
	if err != nil {
		db.fail(w, err)
		return
	}
	data := &modelData{Models: models, Training: db.d.models.training.Load(), PPass: db.d.passSummary()}
	if raw, err := db.d.st.Meta(ctx, metaPassRefit); err == nil && raw != "" {
		var rec passRefit
		if json.Unmarshal([]byte(raw), &rec) == nil {
			data.Refit = &rec
		}
	}
	want := r.URL.Query().Get("id")
	for _, m := range models {
		if m.ID == want || want == "" && m.Current {
			data.Selected = m
		}
	}
	if data.Selected == nil && len(models) > 0 {
		data.Selected = models[len(models)-1]
	}
	if data.Selected != nil {
		data.Curves, data.History = trainingCurves(data.Selected)
		evs, err := db.evals(ctx, 0)
		if err != nil {
			db.fail(w, err)
			return
		}
		sets, err := db.d.st.Sets(ctx)
		if err != nil {
			db.fail(w, err)
			return
		}
		for _, s := range sets {
			ms := &modelSet{Set: s}
			for _, e := range evs {
				if e.Eval.SetID == s.ID && e.Eval.Model == data.Selected.ID {
					ms.Evals = append(ms.Evals, e)
					ms.Plots = append(ms.Plots, passKChart(filepath.Base(s.Dir)+" · "+e.Eval.Method, []*evalView{e}, true))
					if c := e.S.Calibration; c != nil {
						ms.Plots = append(ms.Plots, reliabilityChart(filepath.Base(s.Dir)+" · "+e.Eval.Method, c))
					}
				}
			}
			data.Sets = append(data.Sets, ms)
		}
	}
	if data.Jobs, err = db.d.st.Jobs(ctx, 5); err != nil {
		db.fail(w, err)
		return
	}
	db.render(w, r, "model", "Model", data)
}

// trainingCurves reads a model's metrics.jsonl (the trainer writes one
// line per step) and draws the losses and validation pass@1 by step.
func trainingCurves(m *store.Model) ([]template.HTML, string) {
	if m.Dir == "" {
		return nil, "The shipped model was trained offline by `make model`; docs/model-card.md has its record."
	}
	var mets []trainer.Metric
	if raw, err := os.ReadFile(filepath.Join(m.Dir, "metrics.jsonl")); err == nil {
		mets = parseMetrics(raw)
	}
	if len(mets) == 0 {
		return nil, "No training record for this model (its metrics.jsonl is missing)."
	}
	var sx, sy, vx, vy, px, py []float64
	// The training loss is one group's: noisy. Plot its mean over windows
	// of 20 steps.
	const win = 20
	var acc float64
	for i, mt := range mets {
		acc += mt.Loss
		if (i+1)%win == 0 || i == len(mets)-1 {
			n := float64((i % win) + 1)
			sx, sy = append(sx, float64(mt.Step)), append(sy, acc/n)
			acc = 0
		}
		if mt.ValLoss != nil {
			vx, vy = append(vx, float64(mt.Step)), append(vy, *mt.ValLoss)
		}
		if mt.ValPass != nil {
			px, py = append(px, float64(mt.Step)), append(py, *mt.ValPass)
		}
	}
	loss := &svgplot.Chart{Title: "Loss by step", XLabel: "step", YLabel: "loss", XInt: true,
		Series: []svgplot.Series{{Name: "training (mean of 20)", X: sx, Y: sy}, {Name: "validation", X: vx, Y: vy}}}
	val := &svgplot.Chart{Title: "Validation ranked pass@1 by step", XLabel: "step", YLabel: "pass@1 (%)", XInt: true, YMin: 0, YMax: 100,
		Series: []svgplot.Series{{Name: "validation pass@1", X: px, Y: py}}}
	return []template.HTML{loss.SVG(), val.SVG()}, ""
}

func parseMetrics(raw []byte) []trainer.Metric {
	var out []trainer.Metric
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		var m trainer.Metric
		if json.Unmarshal(sc.Bytes(), &m) == nil && m.Step > 0 {
			out = append(out, m)
		}
	}
	return out
}

// passKChart draws ranked pass@k curves of evaluations, with the first
// one's random and oracle curves when baselines is true.
func passKChart(title string, evs []*evalView, baselines bool) template.HTML {
	ks := make([]float64, evalKs)
	for i := range ks {
		ks[i] = float64(i + 1)
	}
	var series []svgplot.Series
	for _, e := range evs {
		series = append(series, svgplot.Series{Name: "ranked " + e.Key(), X: ks, Y: e.S.Ranked})
	}
	if baselines && len(evs) > 0 {
		series = append(series, svgplot.Series{Name: "random", X: ks, Y: evs[0].S.Random},
			svgplot.Series{Name: "oracle", X: ks, Y: evs[0].S.Oracle})
	}
	c := &svgplot.Chart{Title: "pass@k · " + title, XLabel: "k", YLabel: "pass@k (%)", XInt: true, XMin: 1, XMax: evalKs,
		YMin: 0, YMax: 100, Series: series}
	return c.SVG()
}

// reliabilityChart draws a reliability diagram: per bin, the fraction
// that passed against the mean predicted P(pass), markers sized by the
// bin's share of predictions.
func reliabilityChart(title string, c *metrics.Calibration) template.HTML {
	var x, y, size []float64
	for _, b := range c.Bins {
		if b.N == 0 {
			continue
		}
		x, y, size = append(x, b.MeanP), append(y, b.Frac), append(size, float64(b.N)/float64(max(1, c.N)))
	}
	ch := &svgplot.Chart{Title: fmt.Sprintf("Reliability · %s · ECE %.3f", title, c.ECE), XLabel: "predicted P(pass)",
		YLabel: "fraction passed", XMin: 0, XMax: 1, YMin: 0, YMax: 1, Diagonal: true, Width: 360, Height: 340,
		Series: []svgplot.Series{{Name: "bins", X: x, Y: y, Points: true, Sizes: size}}}
	return ch.SVG()
}

// ---- Compare ----

type compareData struct {
	Sets    []*store.Set
	Set     *store.Set
	Choices []string // model:method pairs evaluated on the set
	A, B    string
	EA, EB  *evalView
	Chart   template.HTML
	Rows    []compareRow
	Wins    [3]int // A only, B only, both
	Ks      []int
}

type compareRow struct {
	TaskID string
	A, B   int // top-1 label: 1 pass, 0 fail, -1 none
}

func (db *dashboard) serveCompare(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sets, err := db.d.st.Sets(ctx)
	if err != nil {
		db.fail(w, err)
		return
	}
	data := &compareData{Sets: sets, Ks: []int{1, 2, 5, 10}}
	q := r.URL.Query()
	want, _ := intParam(q.Get("set"))
	for _, s := range sets {
		if s.ID == want || data.Set == nil {
			data.Set = s
		}
	}
	if data.Set == nil {
		db.render(w, r, "compare", "Compare", data)
		return
	}
	evs, err := db.evals(ctx, data.Set.ID)
	if err != nil {
		db.fail(w, err)
		return
	}
	byKey := map[string]*evalView{}
	for _, e := range evs {
		byKey[e.Key()] = e
		data.Choices = append(data.Choices, e.Key())
	}
	data.A, data.B = q.Get("a"), q.Get("b")
	if byKey[data.A] == nil && len(data.Choices) > 0 {
		data.A = data.Choices[0]
	}
	if byKey[data.B] == nil && len(data.Choices) > 1 {
		data.B = data.Choices[1]
		if data.B == data.A {
			data.B = data.Choices[0]
		}
	}
	data.EA, data.EB = byKey[data.A], byKey[data.B]
	var both []*evalView
	for _, e := range []*evalView{data.EA, data.EB} {
		if e != nil {
			both = append(both, e)
		}
	}
	data.Chart = passKChart(filepath.Base(data.Set.Dir), both, true)
	if data.EA != nil && data.EB != nil {
		pa, err := db.problemSummaries(data.Set.ID, data.EA.Eval.Model, data.EA.Eval.Method)
		if err != nil {
			db.fail(w, err)
			return
		}
		pb, err := db.problemSummaries(data.Set.ID, data.EB.Eval.Model, data.EB.Eval.Method)
		if err != nil {
			db.fail(w, err)
			return
		}
		for i := range min(len(pa), len(pb)) {
			a, b := pa[i].Top1, pb[i].Top1
			switch {
			case a == 1 && b == 1:
				data.Wins[2]++
			case a == 1:
				data.Wins[0]++
			case b == 1:
				data.Wins[1]++
			}
			if a != b {
				data.Rows = append(data.Rows, compareRow{TaskID: pa[i].TaskID, A: a, B: b})
			}
		}
	}
	db.render(w, r, "compare", "Compare", data)
}

// ---- Actions ----

// back returns where an action's page sends the user: a local path only.
func back(r *http.Request, def string) string {
	b := r.PostFormValue("back")
	if !strings.HasPrefix(b, "/") || strings.HasPrefix(b, "//") || strings.Contains(b, "\\") {
		return def
	}
	return b
}

func redirectWith(w http.ResponseWriter, r *http.Request, to, errMsg string) {
	if errMsg != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "error=" + template.URLQueryEscaper(errMsg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (db *dashboard) actionTrain(w http.ResponseWriter, r *http.Request) {
	j, added, err := db.d.st.AddJob(r.Context(), jobTrain, store.PriorityTrain, trainParams{Reason: "requested"}, true)
	msg := ""
	if err != nil {
		msg = err.Error()
	} else {
		db.d.log.Info("fine-tune requested from the dashboard", "job", j.ID, "new", added)
		db.d.kick()
	}
	redirectWith(w, r, back(r, "/model"), msg)
}

func (db *dashboard) actionUse(w http.ResponseWriter, r *http.Request) {
	msg := ""
	if err := db.d.models.use(r.Context(), r.PostFormValue("id")); err != nil {
		msg = err.Error()
	}
	redirectWith(w, r, back(r, "/model"), msg)
}

func (db *dashboard) actionEval(w http.ResponseWriter, r *http.Request) {
	model := r.PostFormValue("model")
	var sets []int64
	if id, ok := intParam(r.PostFormValue("set")); ok {
		sets = append(sets, id)
	}
	msg := ""
	if model != "" {
		if ms, err := db.d.st.Models(r.Context()); err != nil {
			msg = err.Error()
		} else if !slices.ContainsFunc(ms, func(m *store.Model) bool { return m.ID == model }) {
			msg = fmt.Sprintf("no model %q", model)
		}
	}
	if len(db.d.cfg.Dashboard.Methods) == 0 {
		msg = "dashboard.methods is empty in the configuration: nothing to evaluate"
	}
	if msg == "" {
		db.d.queueEval(r.Context(), model, sets...)
	}
	redirectWith(w, r, back(r, "/model"), msg)
}
