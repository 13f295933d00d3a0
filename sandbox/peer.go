package sandbox

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// Two interpreters per run.
//
// A candidate that shares an interpreter with its test can reach the
// test's state: replace the test's helpers found in sys.modules, swap the
// __code__ of functions found by gc, read the expected value from the
// caller's frame, patch math.isclose before the test uses it. So in
// function, call and probe modes a run uses two instances of the module,
// both restored from the image: the judge runs the problem's code, the
// test and the harness's verdict logic; the candidate's instance runs the
// candidate's code and nothing else. A call of the candidate in the test
// is a request that crosses, as data, through the host: the judge writes
// it to /toppass/peer (a file only the judge's run can use), the host runs
// it in the candidate's instance (toppass_run with the peer tag) and the
// reply is what the judge reads back. The candidate sees none of the
// judge's frames, modules or heap; what it sends back is decoded by the
// judge as plain data (harness.py says which types).
//
// Both instances spend one budget: the meter and the stop state of the run
// are the judge's, and the candidate's instance uses them while it serves
// a request (its countdown global is swapped in), so fuel, virtual time,
// output and wall-clock limits cover both sides and a run's cost is the
// sum. A candidate that ends its instance (budget, trap, os._exit, output
// flood) ends the run: the failure is re-raised in the judge at once, so
// no test code runs after it.

// peerMount is where the channel appears in the judge's file system.
const peerMount = "/toppass"

// peerTag starts a request for the candidate's side of the harness.
var peerTag = []byte("\x00toppass-peer\x00")

// judged reports whether mode runs in two instances.
func judged(m Mode) bool {
	return m == ModeFunction || m == ModeCall || m == ModeProbe || m == ""
}

// pairing is the state of a two-instance run, held by the judge.
type pairing struct {
	s      *Sandbox
	ctx    context.Context // the run's context (its wall-clock backstop)
	cand   *instance       // acquired at the first request
	in     []byte          // bytes the judge wrote, not yet a whole request
	out    []byte          // the framed reply, not yet read
	fail   error           // how the candidate's instance ended, if it did
	memory bool            // ... and whether it was at its memory limit
}

// cross serves one request of the judge: it runs msg in the candidate's
// instance under the judge's meter and returns the reply. When the
// candidate's instance ends (budget, trap, exit) it panics, ending the
// judge's call too; run reads p.fail.
func (inst *instance) cross(msg []byte) []byte {
	p := inst.pair
	c := p.cand
	if c == nil {
		var err error
		if c, err = p.s.acquire(p.ctx); err != nil {
			p.fail = err
			panic(sys.NewExitError(sys.ExitCodeDeadlineExceeded))
		}
		c.prepare(p.s, nil, inst.stdout.limit)
		c.stdout.onOver, c.stderr.onOver = inst.stdout.onOver, inst.stderr.onOver
		p.cand = c
	}
	// One meter for both: settle the judge's countdown, load the
	// candidate's, and back again after.
	m := inst.meter
	m.settle()
	own := m.global
	m.global = c.ownMeter.global
	m.reload()
	c.meter, c.stop, c.wallBase = m, inst.stop, inst.wallBase
	defer func() {
		m.settle()
		m.global = own
		m.reload()
		c.meter, c.stop = &c.ownMeter, &c.ownStop
	}()
	reply, err := c.call(p.ctx, msg)
	if err != nil {
		p.fail = err
		p.memory = p.s.atMemoryLimit(c)
		var exit *sys.ExitError
		if errors.As(err, &exit) {
			panic(exit)
		}
		panic(sys.NewExitError(sys.ExitCodeDeadlineExceeded))
	}
	return reply
}

// call runs one tagged request in the candidate's instance and frees its
// buffers (the instance serves many requests between two restores).
func (c *instance) call(ctx context.Context, msg []byte) ([]byte, error) {
	req := make([]byte, 0, len(peerTag)+len(msg))
	req = append(append(req, peerTag...), msg...)
	ptr, err := c.put(ctx, req)
	if err != nil {
		return nil, err
	}
	out, err := c.runFn.Call(ctx, uint64(ptr), uint64(len(req)))
	if err != nil {
		return nil, err
	}
	free := c.mod.ExportedFunction("toppass_free")
	defer func() {
		free.Call(ctx, uint64(ptr))
		free.Call(ctx, out[0])
	}()
	body, err := c.replyAt(out[0])
	if err != nil {
		// The judge reads it as a broken reply.
		return fmt.Appendf(nil, `{"broken":%q}`, err.Error()), nil
	}
	return bytes.Clone(body), nil
}

// endPair returns the candidate's instance to the pool (or closes it) and
// adds its output to the result.
func (inst *instance) endPair(res *Result) {
	p := inst.pair
	inst.pair = nil
	if p == nil {
		return
	}
	res.TestStdout, res.Stdout = res.Stdout, nil
	c := p.cand
	if c == nil {
		return
	}
	res.Truncated = res.Truncated || c.stdout.over || c.stderr.over
	res.Stdout = bytes.Clone(c.stdout.buf)
	res.Stderr = append(bytes.Clone(c.stderr.buf), res.Stderr...)
	if p.fail == nil && p.s.reusable(context.Background(), c) {
		p.s.release(c)
	} else {
		c.close(context.Background())
	}
}

// peerFS is the judge's channel, mounted at peerMount in every instance;
// it answers only while its instance judges a run.
type peerFS struct {
	experimentalsys.UnimplementedFS
	inst *instance
}

func (f peerFS) OpenFile(path string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	switch path {
	case ".", "":
		return &peerFile{inst: f.inst, dir: true}, 0
	case "peer":
		return &peerFile{inst: f.inst}, 0
	}
	return nil, experimentalsys.ENOENT
}

func (f peerFS) Stat(path string) (sys.Stat_t, experimentalsys.Errno) {
	switch path {
	case ".", "":
		return peerStat(true), 0
	case "peer":
		return peerStat(false), 0
	}
	return sys.Stat_t{}, experimentalsys.ENOENT
}

func peerStat(dir bool) sys.Stat_t {
	if dir {
		return sys.Stat_t{Mode: fs.ModeDir | 0o500, Nlink: 1}
	}
	return sys.Stat_t{Mode: 0o600, Nlink: 1}
}

func (f peerFS) Lstat(path string) (sys.Stat_t, experimentalsys.Errno) { return f.Stat(path) }

type peerFile struct {
	experimentalsys.UnimplementedFile
	inst *instance
	dir  bool
}

func (f *peerFile) IsDir() (bool, experimentalsys.Errno) { return f.dir, 0 }

func (f *peerFile) Stat() (sys.Stat_t, experimentalsys.Errno) { return peerStat(f.dir), 0 }

func (f *peerFile) Readdir(int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	return nil, 0
}

// Write takes the judge's framed requests ([u32 length][body]); a whole
// one is served at once and its framed reply waits for Read.
func (f *peerFile) Write(b []byte) (int, experimentalsys.Errno) {
	p := f.inst.pair
	if f.dir || p == nil {
		return 0, experimentalsys.EBADF
	}
	p.in = append(p.in, b...)
	for len(p.in) >= 4 {
		n := int(binary.LittleEndian.Uint32(p.in))
		if len(p.in) < 4+n {
			break
		}
		msg := p.in[4 : 4+n]
		reply := f.inst.cross(msg)
		p.in = append(p.in[:0], p.in[4+n:]...)
		p.out = binary.LittleEndian.AppendUint32(p.out, uint32(len(reply)))
		p.out = append(p.out, reply...)
	}
	return len(b), 0
}

func (f *peerFile) Read(b []byte) (int, experimentalsys.Errno) {
	p := f.inst.pair
	if f.dir || p == nil {
		return 0, experimentalsys.EBADF
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	return n, 0
}
