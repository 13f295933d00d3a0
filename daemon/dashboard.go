package daemon

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The dashboard: a local web page served by the daemon (docs/dashboard.md).
//
// Who may use it: only the user. The server listens on 127.0.0.1, which
// every local user and every web page the user opens can reach, so each
// request must also prove it comes from the user:
//   - a random token, kept in a 0600 file in the user's state folder (as
//     Jupyter does), is required: in the first URL (?token=, which sets a
//     cookie and redirects to the URL without it) or an Authorization
//     header; the cookie is HttpOnly and SameSite=Strict;
//   - the Host header must name the loopback address and our port, so a
//     foreign name that resolves to 127.0.0.1 (DNS rebinding) is refused;
//   - a request that changes anything is a POST that carries a CSRF field
//     derived from the token, and its Origin, when the browser sends one,
//     must be ours;
//   - every response forbids framing and inline script (CSP) and sends a
//     Referer only to itself; the token in a first URL is at once
//     redirected away, so it never leaks to another site.
// Every asset is embedded in the binary: the page works offline.

//go:embed web
var webFS embed.FS

const (
	tokenCookie = "toppass_dashboard"
	tokenFile   = "dashboard.token"
)

type dashboard struct {
	d     *Daemon
	srv   *http.Server
	port  int
	token string
	csrf  string
	pages map[string]*template.Template
	memo  *memo
	rate  *rateMeter
}

// startDashboard listens on 127.0.0.1 and serves the dashboard until
// close; ctx is the requests' context (it ends the event streams).
func (d *Daemon) startDashboard(ctx context.Context) (*dashboard, error) {
	token, err := loadToken(filepath.Join(d.paths.State, tokenFile))
	if err != nil {
		return nil, fmt.Errorf("dashboard token: %w", err)
	}
	ln, err := listenLoopback(d.cfg.Dashboard.Port)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		ln.Close()
		return nil, err
	}
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("csrf"))
	db := &dashboard{d: d, port: ln.Addr().(*net.TCPAddr).Port, token: token, csrf: hex.EncodeToString(mac.Sum(nil)),
		pages: pages, memo: newMemo(), rate: newRateMeter()}
	db.srv = &http.Server{Handler: db.handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go db.rate.run(ctx, func() int64 { return d.labels.Load() })
	go db.warm(ctx)
	go func() {
		if err := db.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.problem("dashboard: %v", err)
		}
	}()
	d.log.Info("dashboard", "url", db.baseURL())
	return db, nil
}

// close stops the server: new connections are refused, requests in flight
// (event streams end with the daemon's context) get two seconds.
func (db *dashboard) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	db.srv.Shutdown(ctx)
}

// warm makes the views that scan the store once at the start, so that no
// page load waits for a scan.
func (db *dashboard) warm(ctx context.Context) {
	if _, _, err := db.counts(ctx); err != nil {
		return
	}
	sums, err := db.setSummaries()
	if err != nil {
		return
	}
	model := db.d.models.currentID()
	for _, s := range sums {
		for _, m := range db.d.cfg.Dashboard.Methods {
			if ctx.Err() != nil {
				return
			}
			db.problemSummaries(s.Set.ID, model, m)
		}
	}
}

// listenLoopback listens on 127.0.0.1:port, or one of the next ten when
// it is taken, or any free port.
func listenLoopback(port int) (net.Listener, error) {
	if port > 0 {
		for p := port; p < port+10 && p <= 65535; p++ {
			if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
				return ln, nil
			}
		}
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// loadToken reads the token file, or makes one (32 random bytes, hex) that
// only the user can read.
func loadToken(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		t := strings.TrimSpace(string(b))
		if _, err := hex.DecodeString(t); err == nil && len(t) == 64 {
			return t, nil
		}
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	t := hex.EncodeToString(buf)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(t+"\n"), 0o600); err != nil {
		return "", err
	}
	return t, os.Rename(tmp, path)
}

func (db *dashboard) baseURL() string { return fmt.Sprintf("http://127.0.0.1:%d/", db.port) }

// URL is the dashboard's address with the token, as `toppass dashboard`
// and status print it.
func (db *dashboard) URL() string { return db.baseURL() + "?token=" + db.token }

// handler routes the pages behind the checks every request passes.
func (db *dashboard) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", db.serveOverview)
	mux.HandleFunc("GET /sets", db.serveSets)
	mux.HandleFunc("GET /sets/{id}", db.serveSet)
	mux.HandleFunc("GET /sets/{id}/problem", db.serveProblem)
	mux.HandleFunc("GET /model", db.serveModel)
	mux.HandleFunc("GET /compare", db.serveCompare)
	mux.HandleFunc("GET /events", db.serveEvents)
	mux.HandleFunc("GET /api/status", db.serveStatusJSON)
	mux.HandleFunc("POST /actions/train", db.actionTrain)
	mux.HandleFunc("POST /actions/use", db.actionUse)
	mux.HandleFunc("POST /actions/eval", db.actionEval)
	assets, _ := fs.Sub(webFS, "web/assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", assetServer(assets)))
	return db.guard(mux)
}

// assetServer serves embedded files, and nothing that is not one: a
// cleaned path that leaves the folder, a folder and a missing file are
// all "not found".
func assetServer(fsys fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path
		if !fs.ValidPath(name) || strings.Contains(name, "\\") || name == "." {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		switch filepath.Ext(name) {
		case ".css":
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
		case ".js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		case ".svg":
			w.Header().Set("Content-Type", "image/svg+xml")
		default:
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		w.Header().Set("Cache-Control", "private, max-age=3600")
		w.Write(b)
	})
}

// guard runs the checks of every request: Host, token, and for a POST
// the CSRF field and the Origin.
func (db *dashboard) guard(next http.Handler) http.Handler {
	hosts := map[string]bool{}
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		hosts[fmt.Sprintf("%s:%d", h, db.port)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !hosts[strings.ToLower(r.Host)] {
			db.refuse(w, http.StatusMisdirectedRequest, "This dashboard answers only at "+db.baseURL()+" (the Host header names another site).")
			return
		}
		if t := r.URL.Query().Get("token"); t != "" && r.Method == http.MethodGet {
			if !db.tokenOK(t) {
				db.refuse(w, http.StatusForbidden, "Wrong token. Open the address `toppass dashboard` prints.")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: db.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			q := r.URL.Query()
			q.Del("token")
			u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return
		}
		if !db.authorized(r) {
			db.refuse(w, http.StatusUnauthorized, "This dashboard needs its token. Open the address `toppass dashboard` prints.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// An opaque origin ("null": a sandboxed frame, a data: page)
			// passes only when the browser says the request is ours.
			site := r.Header.Get("Sec-Fetch-Site")
			if o := r.Header.Get("Origin"); o == "null" && site != "same-origin" || o != "" && o != "null" && !hosts[strings.TrimPrefix(strings.ToLower(o), "http://")] {
				db.refuse(w, http.StatusForbidden, "Cross-site request refused.")
				return
			}
			if site != "" && site != "same-origin" && site != "none" {
				db.refuse(w, http.StatusForbidden, "Cross-site request refused.")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(db.csrf)) != 1 {
				db.refuse(w, http.StatusForbidden, "Missing or wrong CSRF field: use the buttons of the dashboard.")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), startKey{}, start)))
	})
}

type startKey struct{}

func (db *dashboard) tokenOK(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(db.token)) == 1
}

func (db *dashboard) authorized(r *http.Request) bool {
	if c, err := r.Cookie(tokenCookie); err == nil && db.tokenOK(c.Value) {
		return true
	}
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") && db.tokenOK(strings.TrimPrefix(a, "Bearer ")) {
		return true
	}
	return false
}

func (db *dashboard) refuse(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// memo keeps views that cost a scan of the store (counts over every
// label), keyed by the store's version: a view made at the current
// version is served as is; an older one is served while one refresh runs
// in the background (stale while revalidating), so a page never waits for
// a scan except the first time.
type memo struct {
	mu sync.Mutex
	m  map[string]*memoEntry
}

type memoEntry struct {
	version    int64
	val        any
	refreshing bool
}

func newMemo() *memo { return &memo{m: map[string]*memoEntry{}} }

func (m *memo) get(key string, version int64, fn func() (any, error)) (any, error) {
	m.mu.Lock()
	if e := m.m[key]; e != nil {
		if e.version != version && !e.refreshing {
			e.refreshing = true
			go func() {
				v, err := fn()
				m.mu.Lock()
				if err == nil {
					e.val, e.version = v, version
				}
				e.refreshing = false
				m.mu.Unlock()
			}()
		}
		v := e.val
		m.mu.Unlock()
		return v, nil
	}
	m.mu.Unlock()
	v, err := fn()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if len(m.m) > 512 {
		clear(m.m)
	}
	m.m[key] = &memoEntry{version: version, val: v}
	m.mu.Unlock()
	return v, nil
}

// rateMeter samples a counter every second and reports its rate over the
// last ten seconds, and the last five minutes of rates.
type rateMeter struct {
	mu      sync.Mutex
	samples []int64 // one per second, newest last
}

func newRateMeter() *rateMeter { return &rateMeter{} }

func (r *rateMeter) run(ctx context.Context, read func() int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		r.mu.Lock()
		r.samples = append(r.samples, read())
		if len(r.samples) > 301 {
			r.samples = r.samples[len(r.samples)-301:]
		}
		r.mu.Unlock()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// perSecond is the rate over the last ten seconds (fewer at the start).
func (r *rateMeter) perSecond() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.samples)
	if n < 2 {
		return 0
	}
	back := min(10, n-1)
	return float64(r.samples[n-1]-r.samples[n-1-back]) / float64(back)
}

// history is the rate in each of the last minutes' seconds, oldest first.
func (r *rateMeter) history() []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []float64
	for i := 1; i < len(r.samples); i++ {
		out = append(out, float64(r.samples[i]-r.samples[i-1]))
	}
	return out
}

// intParam parses a positive integer path or query value.
func intParam(s string) (int64, bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v > 0
}
