package daemon

import (
	"context"
	"sync"
	"sync/atomic"

	"go.lsp.dev/jsonrpc2"
)

// hub sends notifications to the clients that subscribed. Each client has
// a buffered queue and a goroutine that writes it: a slow or stuck client
// loses notifications (counted), never slows the daemon.
type hub struct {
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	local   map[chan note]struct{} // in-process listeners (the dashboard's event streams)
	logs    atomic.Int32           // subscribers that want logs
	dropped atomic.Int64
}

type subscriber struct {
	conn     jsonrpc2.Conn
	progress bool
	logs     bool
	queue    chan note
	done     chan struct{}
}

type note struct {
	method string
	params any
}

func newHub() *hub { return &hub{subs: map[*subscriber]struct{}{}, local: map[chan note]struct{}{}} }

// listen returns a queue of the progress notifications for an in-process
// listener, and the function that ends it. Like a client's, the queue is
// bounded: a listener that does not keep up loses notifications.
func (h *hub) listen() (<-chan note, func()) {
	ch := make(chan note, 256)
	h.mu.Lock()
	h.local[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.local, ch)
		h.mu.Unlock()
	}
}

// subscribe adds or updates conn's subscription.
func (h *hub) subscribe(conn jsonrpc2.Conn, p SubscribeParams) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.conn == conn {
			if s.logs {
				h.logs.Add(-1)
			}
			s.progress, s.logs = p.Progress, p.Logs
			if s.logs {
				h.logs.Add(1)
			}
			return
		}
	}
	s := &subscriber{conn: conn, progress: p.Progress, logs: p.Logs, queue: make(chan note, 1024), done: make(chan struct{})}
	if s.logs {
		h.logs.Add(1)
	}
	h.subs[s] = struct{}{}
	go func() {
		for {
			select {
			case n := <-s.queue:
				if conn.Notify(context.Background(), n.method, n.params) != nil {
					h.remove(conn)
					return
				}
			case <-s.done:
				return
			case <-conn.Done():
				h.remove(conn)
				return
			}
		}
	}()
}

// remove drops conn's subscription (the client went away).
func (h *hub) remove(conn jsonrpc2.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.conn == conn {
			if s.logs {
				h.logs.Add(-1)
			}
			delete(h.subs, s)
			close(s.done)
		}
	}
}

func (h *hub) wantsLogs() bool { return h.logs.Load() > 0 }

// publish queues a notification for every subscriber that wants it.
func (h *hub) publish(method string, params any, isLog bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if isLog && !s.logs || !isLog && !s.progress {
			continue
		}
		select {
		case s.queue <- note{method, params}:
		default:
			h.dropped.Add(1)
		}
	}
	if isLog {
		return
	}
	for ch := range h.local {
		select {
		case ch <- note{method, params}:
		default:
			h.dropped.Add(1)
		}
	}
}
