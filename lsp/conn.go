package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.lsp.dev/jsonrpc2"
)

// The wire: JSON-RPC 2.0 messages framed by Content-Length headers, as
// go.lsp.dev/jsonrpc2 encodes them. jsonrpc2's own Conn ends the
// connection at the first malformed message; an editor's server must not
// die of one bad message, so this reader reports it (a parse error
// answered with id null) and goes on with the next frame.

// maxMessage bounds one message (a document can be large, not this large).
const maxMessage = 256 << 20

var errBadFrame = errors.New("bad frame")

// reader reads frames.
type reader struct {
	in *bufio.Reader
}

// next returns the body of the next frame. A frame whose header is
// malformed is skipped and reported as errBadFrame (wrapped); io.EOF ends.
func (r *reader) next() ([]byte, error) {
	length := -1
	var bad error
	sawHeader := false
	for {
		line, err := r.in.ReadString('\n')
		if err != nil {
			if err == io.EOF && (sawHeader || line != "") {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if !sawHeader {
				continue // blank lines between frames
			}
			break
		}
		sawHeader = true
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			bad = fmt.Errorf("%w: header line %.80q", errBadFrame, line)
			continue
		}
		if strings.EqualFold(strings.TrimSpace(name), jsonrpc2.HdrContentLength) {
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n < 0 || n > maxMessage {
				bad = fmt.Errorf("%w: Content-Length %.40q", errBadFrame, value)
				continue
			}
			length = n
		}
	}
	if length < 0 && bad == nil {
		bad = fmt.Errorf("%w: no Content-Length", errBadFrame)
	}
	if length >= 0 {
		body := make([]byte, length)
		if _, err := io.ReadFull(r.in, body); err != nil {
			return nil, io.ErrUnexpectedEOF
		}
		if bad == nil {
			return body, nil
		}
	}
	return nil, bad
}

// ReadFrame reads the body of the next frame from r. A frame whose
// header is malformed is consumed and reported as an error; io.EOF ends.
// Clients use it too (toppass bench lsp).
func ReadFrame(r *bufio.Reader) ([]byte, error) { return (&reader{in: r}).next() }

// WriteFrame writes body as one frame.
func WriteFrame(w io.Writer, body []byte) error {
	if _, err := fmt.Fprintf(w, "Content-Length: %d\r\n\r\n", len(body)); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// conn is the server's side of one client connection.
type conn struct {
	r   reader
	w   io.Writer
	wmu sync.Mutex
	log *slog.Logger

	mu       sync.Mutex
	inflight map[string]*inflight // requests being handled, by id
	pending  map[string]chan *jsonrpc2.Response
	nextID   atomic.Int64
	closed   chan struct{}
	closeErr error
}

type inflight struct {
	cancel context.CancelFunc
	once   sync.Once
}

func newConn(in io.Reader, out io.Writer, log *slog.Logger) *conn {
	return &conn{r: reader{in: bufio.NewReaderSize(in, 1<<16)}, w: out, log: log,
		inflight: map[string]*inflight{}, pending: map[string]chan *jsonrpc2.Response{}, closed: make(chan struct{})}
}

func idKey(id jsonrpc2.ID) string {
	b, _ := json.Marshal(&id)
	return string(b)
}

// write sends one message.
func (c *conn) write(msg jsonrpc2.Message) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return WriteFrame(c.w, body)
}

// replyRaw answers id (a response with id null for messages that could
// not be read).
func (c *conn) replyRaw(id *jsonrpc2.ID, result any, err error) {
	type wireError struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	}
	msg := map[string]any{"jsonrpc": "2.0", "id": nil}
	if id != nil {
		msg["id"] = id
	}
	if err != nil {
		var je *jsonrpc2.Error
		code := int64(jsonrpc2.InternalError)
		if errors.As(err, &je) {
			code = int64(je.Code)
		}
		msg["error"] = wireError{Code: code, Message: err.Error()}
	} else {
		msg["result"] = result
	}
	body, _ := json.Marshal(msg)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	WriteFrame(c.w, body)
}

// notify sends a notification to the client.
func (c *conn) notify(method string, params any) error {
	n, err := jsonrpc2.NewNotification(method, params)
	if err != nil {
		return err
	}
	return c.write(n)
}

// call sends a request to the client and waits for its response.
func (c *conn) call(ctx context.Context, method string, params, result any) error {
	id := jsonrpc2.NewNumberID(int32(c.nextID.Add(1)))
	msg, err := jsonrpc2.NewCall(id, method, params)
	if err != nil {
		return err
	}
	ch := make(chan *jsonrpc2.Response, 1)
	key := idKey(id)
	c.mu.Lock()
	c.pending[key] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, key)
		c.mu.Unlock()
	}()
	if err := c.write(msg); err != nil {
		return err
	}
	select {
	case resp := <-ch:
		if resp.Err() != nil {
			return resp.Err()
		}
		if result != nil && len(resp.Result()) > 0 {
			return json.Unmarshal(resp.Result(), result)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return errors.New("the client is gone")
	}
}

// deliver routes a response to the call waiting for it.
func (c *conn) deliver(resp *jsonrpc2.Response) {
	c.mu.Lock()
	ch := c.pending[idKey(resp.ID())]
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- resp:
		default:
		}
	}
}

// track registers a request being handled and returns its context and the
// function that answers it, exactly once; the answer also forgets it.
func (c *conn) track(ctx context.Context, id jsonrpc2.ID) (context.Context, func(result any, err error) bool) {
	ctx, cancel := context.WithCancel(ctx)
	f := &inflight{cancel: cancel}
	key := idKey(id)
	c.mu.Lock()
	c.inflight[key] = f
	c.mu.Unlock()
	return ctx, func(result any, err error) bool {
		answered := false
		f.once.Do(func() {
			answered = true
			c.mu.Lock()
			delete(c.inflight, key)
			c.mu.Unlock()
			if err == nil && ctx.Err() != nil {
				err = &jsonrpc2.Error{Code: requestCancelled, Message: "request cancelled"}
			}
			if err != nil && errors.Is(err, context.Canceled) {
				err = &jsonrpc2.Error{Code: requestCancelled, Message: "request cancelled"}
			}
			c.replyRaw(&id, result, err)
			cancel()
		})
		return answered
	}
}

// cancelRequest cancels the request with this id, if it is in flight.
func (c *conn) cancelRequest(raw json.RawMessage) {
	c.mu.Lock()
	f := c.inflight[string(raw)]
	c.mu.Unlock()
	if f != nil {
		f.cancel()
	}
}

// requestCancelled is LSP's RequestCancelled error code.
const requestCancelled = -32800

// serverNotInitialized is LSP's ServerNotInitialized error code.
const serverNotInitialized = -32002
