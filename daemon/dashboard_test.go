package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/toppass/toppass/daemon"
	"github.com/toppass/toppass/dataset"
	"github.com/toppass/toppass/metrics"
	"github.com/toppass/toppass/store"
)

// The dashboard, served by the real daemon: its checks (token, Host,
// CSRF, paths), its live progress, and every page in a real browser
// (headless Chromium, Debian's package).

const dashConfig = "workers = 2\ntimeout = \"1s\"\ndebounce = \"100ms\"\n\n[finetune]\nmin_new_problems = 1000\nsteps = 30\n\n[dashboard]\nport = 0\n"

// dash is a dashboard's address and token, and an HTTP client that does
// not follow redirects.
type dash struct {
	t     *testing.T
	base  string // http://127.0.0.1:PORT
	host  string
	token string
	c     *http.Client
}

func (e *env) dashboard() *dash {
	e.t.Helper()
	st := e.status()
	u, err := url.Parse(st.DashboardURL)
	if err != nil || st.DashboardURL == "" {
		e.t.Fatalf("status has no dashboard_url: %q", st.DashboardURL)
	}
	if u.Hostname() != "127.0.0.1" {
		e.t.Fatalf("the dashboard listens on %s, not the loopback address", u.Host)
	}
	return &dash{t: e.t, base: "http://" + u.Host, host: u.Host, token: u.Query().Get("token"),
		c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request; edit may set headers. It returns the status and body.
func (d *dash) do(method, path string, body url.Values, edit func(*http.Request)) (int, string, http.Header) {
	d.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(body.Encode())
	}
	req, err := http.NewRequest(method, d.base+path, rd)
	if err != nil {
		d.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if edit != nil {
		edit(req)
	}
	resp, err := d.c.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (d *dash) cookie(r *http.Request) {
	r.AddCookie(&http.Cookie{Name: "toppass_dashboard", Value: d.token})
}

// csrfField reads the CSRF field of the model page's forms.
func (d *dash) csrfField() string {
	d.t.Helper()
	code, body, _ := d.do("GET", "/model", nil, d.cookie)
	i := strings.Index(body, `name="csrf" value="`)
	if code != 200 || i < 0 {
		d.t.Fatalf("model page %d has no CSRF field", code)
	}
	rest := body[i+len(`name="csrf" value="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// startDashboard starts a daemon with the dashboard on a free port.
func startDashboard(t *testing.T) (*env, *dash) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the dashboard tests run the daemon's binary")
	}
	e := newEnv(t, dashConfig)
	e.start()
	return e, e.dashboard()
}

func TestDashboardSecurity(t *testing.T) {
	e, d := startDashboard(t)
	if len(d.token) != 64 {
		t.Fatalf("token %q", d.token)
	}
	if fi, err := os.Stat(filepath.Join(e.paths.State, "dashboard.token")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}

	// No token, a wrong token, a wrong cookie: refused, and nothing of the
	// page is shown.
	for name, edit := range map[string]func(*http.Request){
		"none": nil,
		"wrong cookie": func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: "toppass_dashboard", Value: strings.Repeat("0", 64)})
		},
		"wrong bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 64)) },
		"short cookie": func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "toppass_dashboard", Value: d.token[:10]}) },
	} {
		for _, p := range []string{"/", "/sets", "/model", "/events", "/api/status", "/assets/app.css"} {
			code, body, _ := d.do("GET", p, nil, edit)
			if code != http.StatusUnauthorized || strings.Contains(body, "<html") || strings.Contains(body, "toppass dashboard:") {
				t.Errorf("%s %s: %d %q", name, p, code, body)
			}
		}
	}
	if code, _, _ := d.do("GET", "/?token="+strings.Repeat("f", 64), nil, nil); code != http.StatusForbidden {
		t.Errorf("a wrong token in the URL: %d", code)
	}

	// The token in the first URL: a cookie (HttpOnly, SameSite=Strict) and
	// a redirect to the URL without it; then the cookie is enough.
	code, _, h := d.do("GET", "/sets?token="+d.token, nil, nil)
	ck := h.Get("Set-Cookie")
	if code != http.StatusSeeOther || h.Get("Location") != "/sets" || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") {
		t.Fatalf("first URL: %d Location %q Set-Cookie %q", code, h.Get("Location"), ck)
	}
	code, body, h := d.do("GET", "/", nil, d.cookie)
	if code != 200 || !strings.Contains(body, "<h1>Overview</h1>") {
		t.Fatalf("with the cookie: %d", code)
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff"} {
		if h.Get(k) != want {
			t.Errorf("%s: %q", k, h.Get(k))
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(body, d.token) {
		t.Error("a page shows the token")
	}
	if code, _, _ := d.do("GET", "/", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+d.token) }); code != 200 {
		t.Errorf("bearer token: %d", code)
	}

	// A foreign Host (DNS rebinding: evil.example resolving to 127.0.0.1)
	// is refused even with the token; the loopback names are not.
	port := d.host[strings.LastIndexByte(d.host, ':')+1:]
	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.evil.example:" + port, "127.0.0.1:1", "[::1]:1"} {
		code, _, _ := d.do("GET", "/", nil, func(r *http.Request) { d.cookie(r); r.Host = host })
		if code != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: %d", host, code)
		}
	}
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port} {
		if code, _, _ := d.do("GET", "/", nil, func(r *http.Request) { d.cookie(r); r.Host = host }); code != 200 {
			t.Errorf("Host %q: %d", host, code)
		}
	}

	// Cross-site POSTs: no CSRF field, a wrong one, a foreign Origin, a
	// cross-site fetch: refused, and no job is queued.
	csrf := d.csrfField()
	jobsBefore := len(e.status().Jobs)
	for name, c := range map[string]struct {
		form url.Values
		edit func(*http.Request)
	}{
		"no field":      {url.Values{}, d.cookie},
		"wrong field":   {url.Values{"csrf": {strings.Repeat("0", 64)}}, d.cookie},
		"foreign site":  {url.Values{"csrf": {csrf}}, func(r *http.Request) { d.cookie(r); r.Header.Set("Origin", "http://evil.example") }},
		"cross-site":    {url.Values{"csrf": {csrf}}, func(r *http.Request) { d.cookie(r); r.Header.Set("Sec-Fetch-Site", "cross-site") }},
		"opaque origin": {url.Values{"csrf": {csrf}}, func(r *http.Request) { d.cookie(r); r.Header.Set("Origin", "null") }},
		"no token":      {url.Values{"csrf": {csrf}}, nil},
	} {
		for _, p := range []string{"/actions/train", "/actions/use", "/actions/eval"} {
			if code, _, _ := d.do("POST", p, c.form, c.edit); code != http.StatusForbidden && code != http.StatusUnauthorized {
				t.Errorf("%s POST %s: %d", name, p, code)
			}
		}
	}
	if code, _, _ := d.do("GET", "/actions/train", nil, d.cookie); code != http.StatusMethodNotAllowed {
		t.Errorf("GET of an action: %d", code)
	}
	if n := len(e.status().Jobs); n != jobsBefore {
		t.Fatalf("a refused POST queued a job: %d -> %d", jobsBefore, n)
	}
	// The same POST from the page: accepted, the fine-tune is queued.
	code, _, h = d.do("POST", "/actions/train", url.Values{"csrf": {csrf}, "back": {"//evil.example/x"}}, func(r *http.Request) {
		d.cookie(r)
		r.Header.Set("Origin", d.base)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	})
	if code != http.StatusSeeOther || h.Get("Location") != "/model" {
		t.Fatalf("the page's POST: %d Location %q (an open redirect?)", code, h.Get("Location"))
	}
	e.waitFor("the fine-tune job", 10*time.Second, func(st daemon.Status) bool {
		for _, j := range st.Jobs {
			if j.Kind == "train" {
				return true
			}
		}
		return false
	})

	// Paths that try to leave the assets: never a file from elsewhere.
	for _, p := range []string{"/assets/../dashboard.go", "/assets/%2e%2e/dashboard.go", "/assets/..%2fdashboard.go", "/assets/..%2f..%2fdaemon%2fdashboard.go",
		"/assets/%2e%2e%2flayout.html", "/assets//etc/passwd", "/assets/..\\layout.html", "/assets/.", "/assets/", "/assets/app.css/..%2f..%2flayout.html",
		"/assets/%00", "/../../etc/passwd", "/web/layout.html"} {
		req, _ := http.NewRequest("GET", d.base, nil)
		req.URL.Opaque = p // sent as written, not cleaned by the client
		d.cookie(req)
		resp, err := d.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 || strings.Contains(string(b), "package daemon") || strings.Contains(string(b), "{{define") || strings.Contains(string(b), "root:") {
			t.Errorf("%s: %d %.80q", p, resp.StatusCode, b)
		}
	}
	if code, body, h := d.do("GET", "/assets/app.css", nil, d.cookie); code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/css") || !strings.Contains(body, "svg.chart") {
		t.Errorf("the stylesheet: %d %q", code, h.Get("Content-Type"))
	}
	// Bad parameters are a clear 404, never a crash.
	for _, p := range []string{"/sets/0", "/sets/x", "/sets/999", "/sets/999/problem?task=a", "/sets/1/problem", "/model?id=nope", "/compare?set=999&a=x&b=y"} {
		if code, body, _ := d.do("GET", p, nil, d.cookie); code != 404 && code != 200 || strings.Contains(body, "goroutine") {
			t.Errorf("%s: %d %.100q", p, code, body)
		}
	}
}

// busySet writes a set of one problem with n distinct candidates that each
// run for a while (a loop), so that labelling them takes seconds.
func busySet(t *testing.T, dir string, n int) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	p := dataset.Problem{TaskID: "busy/sum", Prompt: "def f(n):\n    \"\"\"Sum of 0..n-1.\"\"\"\n", EntryPoint: "f",
		Test: "def check(candidate):\n    assert candidate(10) == 45\n"}
	b, _ := json.Marshal(p)
	os.WriteFile(filepath.Join(dir, "problems.jsonl"), append(b, '\n'), 0o644)
	var cb strings.Builder
	for i := range n {
		code := fmt.Sprintf("    s = 0\n    for i in range(%d):\n        s += i\n    return sum(range(n)) + %d\n", 150000+i, i%2)
		b, _ := json.Marshal(dataset.Candidate{TaskID: p.TaskID, Completion: &code})
		cb.Write(append(b, '\n'))
	}
	os.WriteFile(filepath.Join(dir, "candidates.jsonl"), []byte(cb.String()), 0o644)
}

// TestDashboardLiveProgress reads the event stream while a set is
// labelled: the label job's progress arrives at least once a second.
func TestDashboardLiveProgress(t *testing.T) {
	e, d := startDashboard(t)
	req, _ := http.NewRequest("GET", d.base+"/events", nil)
	d.cookie(req)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	resp, err := d.c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("events: %d %q", resp.StatusCode, ct)
	}
	set := filepath.Join(e.root, "busy")
	busySet(t, set, 120)
	if out, code := e.cli("watch", set); code != 0 {
		t.Fatalf("watch: %s", out)
	}
	type update struct {
		at         time.Time
		done       int64
		total      int64
		state      string
		fromStatus bool
	}
	var ups []update
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	event := ""
	finished := false
	for !finished && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := strings.TrimPrefix(line, "data: ")
			now := time.Now()
			switch event {
			case "job":
				var p daemon.Progress
				if err := json.Unmarshal([]byte(data), &p); err != nil {
					t.Fatal(err)
				}
				if p.Kind == "label" {
					ups = append(ups, update{now, p.Done, p.Total, p.State, false})
				}
			case "status":
				var s struct{ Jobs []*store.Job }
				if err := json.Unmarshal([]byte(data), &s); err != nil {
					t.Fatal(err)
				}
				for _, j := range s.Jobs {
					if j.Kind == "label" {
						ups = append(ups, update{now, j.Done, j.Total, j.State, true})
					}
				}
			}
			if n := len(ups); n > 0 && ups[n-1].state == store.JobDone {
				finished = true
			}
		}
	}
	if !finished {
		t.Fatalf("the stream ended before the label job finished (%v); %d updates", sc.Err(), len(ups))
	}
	// The updates while the job ran: one at least every second, and the
	// count of labels grows.
	var running []update
	for _, u := range ups {
		if u.state == store.JobRunning {
			running = append(running, u)
		}
	}
	if len(running) < 3 {
		t.Fatalf("only %d updates while the job ran", len(running))
	}
	var maxGap time.Duration
	for i := 1; i < len(running); i++ {
		maxGap = max(maxGap, running[i].at.Sub(running[i-1].at))
	}
	span := running[len(running)-1].at.Sub(running[0].at)
	t.Logf("%d updates over %v of labelling, longest gap %v; progress %d -> %d of %d", len(running), span.Round(time.Millisecond),
		maxGap.Round(time.Millisecond), running[0].done, running[len(running)-1].done, running[len(running)-1].total)
	if maxGap > time.Second {
		t.Errorf("a gap of %v between progress updates during labelling", maxGap)
	}
	if running[len(running)-1].done <= running[0].done {
		t.Errorf("progress did not grow: %+v ... %+v", running[0], running[len(running)-1])
	}
}

// chromium finds Debian's chromium (or another Chrome).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium: the browser test needs Debian's chromium (apt-get install chromium; .ci/run installs it)")
	return ""
}

// TestDashboardInBrowser loads every page in headless Chromium with the
// daemon working on the shipped example sets: no console errors, charts
// present and drawn, a fine-tune started from the Model page shows in the
// job list, and a browser without the token is refused. With
// TOPPASS_SCREENSHOTS=DIR it saves a screenshot of each page there (make
// screenshots).
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser test runs the daemon and Chromium")
	}
	exe := chromium(t)
	began := time.Now()
	e := newEnv(t, dashConfig)
	e.start()
	_, sample := e.watchExamples()
	// Labelled, then evaluated (neural, hybrid, lexical).
	e.waitFor("labels and evaluations", 4*time.Minute, func(st daemon.Status) bool {
		if !idle(st) || len(st.Sets) != 2 {
			return false
		}
		for _, j := range st.Jobs {
			if j.State == store.JobQueued || j.State == store.JobRunning {
				return false
			}
		}
		return evalsDone(e, 2)
	})
	t.Logf("labelled and evaluated after %v", time.Since(began).Round(time.Millisecond))
	checkEvals(t, e)
	d := e.dashboard()
	var sampleID int64
	for _, s := range e.status().Sets {
		if s.Dir == sample {
			sampleID = s.ID
		}
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 8*time.Minute)
	defer cancelT()

	var mu sync.Mutex
	var problems []string
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatal(err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line))
				mu.Unlock()
			}
		}
	}()

	// The first URL carries the token; the page drops it from the address.
	if err := chromedp.Do(ctx, chromedp.Navigate(d.base+"/?token="+d.token), chromedp.WaitVisible("#jobs")); err != nil {
		t.Fatal(err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if strings.Contains(loc, "token") {
		t.Errorf("the address still holds the token: %s", loc)
	}
	shots := os.Getenv("TOPPASS_SCREENSHOTS")
	pages := []struct {
		name, path, ready string
		charts            int // at least this many drawn charts
	}{
		{"overview", "/", "#jobs", 1},
		{"sets", "/sets", "main table", 0},
		{"set", fmt.Sprintf("/sets/%d", sampleID), "#problems", 0},
		{"problem", fmt.Sprintf("/sets/%d/problem?task=sample%%2Fdigit_sum&method=hybrid", sampleID), "#candidates", 0},
		{"model", "/model", "#models", 4},
		{"compare", fmt.Sprintf("/compare?set=%d&a=shipped:hybrid&b=shipped:lexical", sampleID), "#compare-table", 1},
	}
	for _, p := range pages {
		if err := chromedp.Do(ctx, chromedp.Navigate(d.base+p.path), chromedp.WaitVisible(p.ready)); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		title, _ := chromedp.Run(ctx, chromedp.Title())
		if !strings.HasSuffix(title, "· toppass") {
			t.Errorf("%s: title %q", p.name, title)
		}
		// Charts: an <svg role=img> with a title, and drawn marks.
		drawn, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("svg.chart")].filter(s =>
			s.querySelector("title") && s.querySelector("title").textContent.length > 0 &&
			s.querySelectorAll("polyline.series, .point").length > 0 && s.getBoundingClientRect().width > 100).length`))
		if err != nil {
			t.Fatal(err)
		}
		if drawn < p.charts {
			t.Errorf("%s: %d drawn charts, want at least %d", p.name, drawn, p.charts)
		}
		if shots != "" {
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(shots, 0o755)
			if err := os.WriteFile(filepath.Join(shots, "dashboard-"+p.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The problem page highlights a failing line.
	n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("li.fail-line").length`))
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/sets/%d/problem?task=sample%%2Fdigit_sum", d.base, sampleID)), chromedp.WaitVisible("#candidates")); err != nil {
		t.Fatal(err)
	}
	n2, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("li.fail-line").length`))
	if n+n2 == 0 {
		t.Error("no failing line highlighted on the problem page")
	}

	// Start a fine-tune from the Model page: it shows in the job list.
	if err := chromedp.Do(ctx, chromedp.Navigate(d.base+"/model"), chromedp.WaitVisible("#start-finetune"), chromedp.Click("#start-finetune")); err != nil {
		t.Fatal(err)
	}
	if !pollPage(ctx, 20*time.Second, `location.pathname == "/model" && document.querySelector("table.jobs") != null &&
		document.querySelector("table.jobs").textContent.includes("train")`) {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML("body"))
		t.Fatalf("the fine-tune is not in the job list:\n%.3000s", html)
	}
	// And on the overview, where the list is live.
	if err := chromedp.Do(ctx, chromedp.Navigate(d.base+"/"), chromedp.WaitVisible("#jobs")); err != nil {
		t.Fatal(err)
	}
	if !pollPage(ctx, 10*time.Second, `document.querySelector("#jobs").textContent.includes("train")`) {
		t.Errorf("the overview's job list lacks the fine-tune")
	}
	if shots != "" {
		// The fine-tune's curves, once it is done.
		st := e.waitFor("the fine-tune", 4*time.Minute, ended("train"))
		var id string
		for _, j := range st.Jobs {
			if j.Kind == "train" {
				var p struct{ ID string }
				json.Unmarshal(j.Params, &p)
				id = p.ID
			}
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(d.base+"/model?id="+url.QueryEscape(id)), chromedp.WaitVisible("#models")); err != nil {
			t.Fatal(err)
		}
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(shots, "dashboard-finetune.png"), png, 0o644)
		}
	}
	mu.Lock()
	if len(problems) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(problems, "\n"))
	}
	mu.Unlock()

	// A browser without the token (a fresh profile): refused.
	ctx2, cancel2 := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel2()
	if err := chromedp.Do(ctx2, chromedp.Navigate(d.base+"/sets")); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx2, chromedp.Text("body"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "needs its token") || strings.Contains(body, "Problem sets") {
		t.Errorf("without the token the browser got: %q", body)
	}
}

// checkEvals recomputes, from the exported labels, the random and oracle
// pass@k of every stored evaluation, and checks that every labelled
// problem and candidate was ranked once.
func checkEvals(t *testing.T, e *env) {
	t.Helper()
	labels := e.labels()
	type counts struct{ n, c int }
	byTask := map[string]*counts{}
	for key, l := range labels {
		task := key[:strings.LastIndexByte(key, '#')]
		if byTask[task] == nil {
			byTask[task] = &counts{}
		}
		byTask[task].n++
		if l.Passed {
			byTask[task].c++
		}
	}
	st, err := store.Open(context.Background(), e.paths.DB())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Evals(context.Background(), 0)
	if err != nil || len(evs) != 6 {
		t.Fatalf("%d evaluations (want 2 sets x 3 methods): %v", len(evs), err)
	}
	for _, ev := range evs {
		var sum daemon.EvalSummary
		if err := json.Unmarshal(ev.Data, &sum); err != nil {
			t.Fatal(err)
		}
		tasks, err := st.ProblemSummaries(context.Background(), ev.SetID, "", ev.Model, ev.Method)
		if err != nil {
			t.Fatal(err)
		}
		var random, oracle [3]float64
		cands := 0
		for _, p := range tasks {
			c := byTask[p.TaskID]
			if c == nil {
				t.Fatalf("problem %s has no labels", p.TaskID)
			}
			cands += c.n
			for k := 1; k <= 3; k++ {
				random[k-1] += 100 * metrics.PassAtK(c.n, c.c, k) / float64(len(tasks))
				if c.c > 0 {
					oracle[k-1] += 100 / float64(len(tasks))
				}
			}
		}
		if sum.Problems != len(tasks) || sum.Candidates != cands {
			t.Errorf("%s %s set %d: ranked %d problems, %d candidates; the set has %d, %d", ev.Model, ev.Method, ev.SetID, sum.Problems, sum.Candidates, len(tasks), cands)
		}
		for k := range 3 {
			if math.Abs(sum.Random[k]-random[k]) > 1e-6 || math.Abs(sum.Oracle[k]-oracle[k]) > 1e-6 ||
				sum.Ranked[k] < 0 || sum.Ranked[k] > sum.Oracle[k]+1e-6 {
				t.Errorf("%s %s set %d pass@%d: ranked %.2f random %.2f (want %.2f) oracle %.2f (want %.2f)", ev.Model, ev.Method, ev.SetID,
					k+1, sum.Ranked[k], sum.Random[k], random[k], sum.Oracle[k], oracle[k])
			}
		}
		if (ev.Method == "lexical") != (sum.Calibration == nil) {
			t.Errorf("%s: calibration %v", ev.Method, sum.Calibration)
		}
		if c := sum.Calibration; c != nil && (c.N != cands || c.ECE < 0 || c.ECE > 1) {
			t.Errorf("%s: calibration over %d of %d candidates, ECE %v", ev.Method, c.N, cands, c.ECE)
		}
	}
}

// pollPage evaluates a JavaScript condition in the page until it holds.
func pollPage(ctx context.Context, limit time.Duration, cond string) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

// evalsDone says whether every set has its evaluations (the compare page
// lists them).
func evalsDone(e *env, sets int) bool {
	d := e.dashboard()
	for id := 1; id <= sets; id++ {
		_, body, _ := d.do("GET", fmt.Sprintf("/compare?set=%d", id), nil, d.cookie)
		for _, m := range []string{"neural", "hybrid", "lexical"} {
			if !strings.Contains(body, ">shipped:"+m+"<") {
				return false
			}
		}
	}
	return true
}
