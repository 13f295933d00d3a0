package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// serveEvents streams server-sent events to a dashboard page: "job" with
// a job's progress as it is published (labelling publishes every 200 ms),
// and "status" twice a second with the counts, the label rate and the
// jobs. A client that falls behind loses job events, never the daemon's
// time; the next status carries the jobs' state anyway.
func (db *dashboard) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		db.refuse(w, http.StatusInternalServerError, "streaming is not supported")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	notes, stop := db.d.hub.listen()
	defer stop()
	send := func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	fmt.Fprint(w, "retry: 2000\n\n")
	status := func() bool {
		st, err := db.liveStatus(r.Context())
		if err != nil {
			return r.Context().Err() == nil
		}
		return send("status", map[string]any{"labels": st.Labels, "pending": st.Pending, "labels_per_s": db.rate.perSecond(),
			"model": st.Model, "training": st.Training, "ranking": st.Ranking, "jobs": st.Jobs, "errors": st.Errors})
	}
	if !status() {
		return
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case n := <-notes:
			if n.method == NotifyProgress && !send("job", n.params) {
				return
			}
		case <-tick.C:
			if !status() {
				return
			}
		}
	}
}
