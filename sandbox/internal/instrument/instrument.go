// Package instrument rewrites a WebAssembly module so that the work it does
// is counted, deterministically, and every loop can be stopped from outside
// at almost no cost.
//
// Why: a sandbox must stop a program that runs too long, and the verdict
// must not depend on how busy or fast the machine is. Wall-clock limits turn
// load into labels; counting the work the program does inside the module
// gives the same count on every machine. wazero's WithCloseOnContextDone
// stops programs by leaving native code for Go at every loop header, which
// made a Python loop 3x and bigint arithmetic 12-18x slower; counting in
// wasm costs a few percent.
//
// Fuel adds one mutable i32 global, the countdown (exported as FuelGlobal so
// that the host can read and reset it), and inserts at the head of every loop
//
//	global.get $n; i32.const 1; i32.sub; global.set $n
//	global.get $n; i32.const 1; i32.lt_s
//	if; call $sched_yield; drop; end
//
// so that whenever the countdown runs out the program calls WASI's
// sched_yield, a host function. The host adds what was used to the run's
// total, ends the run there when its budget is spent or it was interrupted
// (a panic with an exit error unwinds the call cleanly), and otherwise
// resets the countdown. Bulk memory operations (memory.copy, memory.fill)
// are single instructions of any length; they are replaced by calls to two
// added functions that charge their length (one unit per 2^ByteShift bytes)
// before doing the same operation.
//
// The call into Go matters for a second reason: native wasm code cannot be
// preempted, so a program that never called the host would also hold up
// Go's stop-the-world phases. A long computation must loop, or recurse
// until the stack runs out, so it always reaches a check.
package instrument

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// FuelGlobal is the export name of the countdown global.
const FuelGlobal = "toppass_fuel"

// ByteShift sets the price of bulk memory operations: one unit of fuel per
// 2^ByteShift bytes copied or filled.
const ByteShift = 6

// Info describes an instrumented module.
type Info struct {
	Loops     int // loop headers that count
	BulkOps   int // memory.copy and memory.fill instructions that charge
	FuelIndex uint32
}

// Fuel instruments module (see the package documentation).
func Fuel(module []byte) ([]byte, Info, error) {
	var info Info
	if len(module) < 8 || !bytes.Equal(module[:4], []byte("\x00asm")) {
		return nil, info, errors.New("instrument: not a wasm module")
	}
	r := &reader{b: module, p: 8}
	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	for r.p < len(r.b) {
		id := r.byte()
		n := r.u32()
		if r.err != nil || r.p+int(n) > len(r.b) {
			return nil, info, errors.New("instrument: truncated section")
		}
		secs = append(secs, section{id, r.b[r.p : r.p+int(n)]})
		r.p += int(n)
	}
	if r.err != nil {
		return nil, info, r.err
	}
	body := map[byte][]byte{}
	for _, s := range secs {
		if s.id != 0 {
			body[s.id] = s.body
		}
	}
	for _, id := range []byte{1, 3, 6, 7, 10} {
		if body[id] == nil {
			return nil, info, fmt.Errorf("instrument: module has no section %d", id)
		}
	}
	yield, importedFuncs, importedGlobals, err := scanImports(body[2])
	if err != nil {
		return nil, info, err
	}

	// New entries go after all others, so no existing index changes: the
	// countdown global, a function type (i32 i32 i32) -> (), and the two
	// charging functions.
	types, typeIdx := appendVec(body[1], []byte{0x60, 3, 0x7f, 0x7f, 0x7f, 0})
	defined := count(body[3])
	copyFn, fillFn := importedFuncs+defined, importedFuncs+defined+1
	tIdx := binary.AppendUvarint(nil, uint64(typeIdx))
	funcs, _ := appendVec(body[3], tIdx, tIdx)
	counter := importedGlobals + count(body[6])
	globals, _ := appendVec(body[6], []byte{0x7f, 0x01, 0x41, 0x00, 0x0b})
	g := binary.AppendUvarint(nil, uint64(counter))
	export := binary.AppendUvarint(nil, uint64(len(FuelGlobal)))
	export = append(append(export, FuelGlobal...), 0x03)
	exports, _ := appendVec(body[7], append(export, g...))

	check := append([]byte{0x23}, g...)                // global.get $n
	check = append(check, 0x41, 0x01, 0x6b, 0x24)      // i32.const 1; i32.sub; global.set
	check = append(check, g...)                        // $n
	check = append(check, 0x23)                        // global.get
	check = append(check, g...)                        // $n
	check = append(check, 0x41, 0x01, 0x48)            // i32.const 1; i32.lt_s
	check = append(check, 0x04, 0x40, 0x10)            // if; call
	check = binary.AppendUvarint(check, uint64(yield)) // $sched_yield
	check = append(check, 0x1a, 0x0b)                  // drop; end

	rw := &rewriter{check: check,
		copyCall: append([]byte{0x10}, binary.AppendUvarint(nil, uint64(copyFn))...),
		fillCall: append([]byte{0x10}, binary.AppendUvarint(nil, uint64(fillFn))...)}
	code, err := rw.code(body[10], charging(g, []byte{0xfc, 0x0a, 0, 0}), charging(g, []byte{0xfc, 0x0b, 0}))
	if err != nil {
		return nil, info, err
	}
	info = Info{Loops: rw.loops, BulkOps: rw.bulk, FuelIndex: counter}

	out := append([]byte(nil), module[:8]...)
	for _, s := range secs {
		b := s.body
		switch s.id {
		case 1:
			b = types
		case 3:
			b = funcs
		case 6:
			b = globals
		case 7:
			b = exports
		case 10:
			b = code
		}
		out = append(out, s.id)
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out, info, nil
}

// charging is the body of a function (dst, src|value, n) that takes
// n >> ByteShift from the countdown g, then does op on its arguments.
func charging(g, op []byte) []byte {
	b := []byte{0x00, 0x23}                  // no locals; global.get
	b = append(b, g...)                      // $n
	b = append(b, 0x20, 0x02, 0x41)          // local.get 2; i32.const
	b = appendS32(b, ByteShift)              // ByteShift
	b = append(b, 0x76, 0x6b, 0x24)          // i32.shr_u; i32.sub; global.set
	b = append(b, g...)                      // $n
	b = append(b, 0x20, 0, 0x20, 1, 0x20, 2) // local.get 0, 1, 2
	b = append(b, op...)
	return append(b, 0x0b)
}

// count reads the element count at the start of a vector section.
func count(sec []byte) uint32 {
	r := &reader{b: sec}
	return r.u32()
}

// appendVec returns a vector section with items added at its end, and the
// index of the first one.
func appendVec(sec []byte, items ...[]byte) ([]byte, uint32) {
	r := &reader{b: sec}
	n := r.u32()
	out := binary.AppendUvarint(nil, uint64(n)+uint64(len(items)))
	out = append(out, sec[r.p:]...)
	for _, it := range items {
		out = append(out, it...)
	}
	return out, n
}

// scanImports finds the function index of wasi_snapshot_preview1's
// sched_yield and counts the imported functions and globals.
func scanImports(imports []byte) (yield, funcs, globals uint32, err error) {
	found := false
	r := &reader{b: imports}
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		mod, name := r.name(), r.name()
		switch kind := r.byte(); kind {
		case 0x00:
			r.u32()
			if mod == "wasi_snapshot_preview1" && name == "sched_yield" {
				yield, found = funcs, true
			}
			funcs++
		case 0x01:
			r.byte()
			r.limits()
		case 0x02:
			r.limits()
		case 0x03:
			r.byte()
			r.byte()
			globals++
		default:
			return 0, 0, 0, fmt.Errorf("instrument: unknown import kind %#x", kind)
		}
	}
	if r.err != nil {
		return 0, 0, 0, r.err
	}
	if !found {
		return 0, 0, 0, errors.New("instrument: module does not import wasi_snapshot_preview1.sched_yield")
	}
	return yield, funcs, globals, nil
}

// rewriter copies function bodies, adding check after every loop's block
// type and replacing bulk memory operations with calls.
type rewriter struct {
	check, copyCall, fillCall []byte
	loops, bulk               int
}

// code rewrites the code section and appends the bodies in extra.
func (rw *rewriter) code(code []byte, extra ...[]byte) ([]byte, error) {
	r := &reader{b: code}
	n := r.u32()
	out := binary.AppendUvarint(nil, uint64(n)+uint64(len(extra)))
	var body []byte
	for i := uint32(0); i < n; i++ {
		size := int(r.u32())
		if r.err != nil || r.p+size > len(r.b) {
			return nil, fmt.Errorf("instrument: function %d: truncated", i)
		}
		fn := &reader{b: r.b[r.p : r.p+size]}
		r.p += size
		// Locals are copied as they are.
		for nl := fn.u32(); nl > 0 && fn.err == nil; nl-- {
			fn.u32()
			fn.byte()
		}
		body = append(body[:0], fn.b[:fn.p]...)
		if err := rw.expr(fn, &body); err != nil {
			return nil, fmt.Errorf("instrument: function %d: %w", i, err)
		}
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	if r.err != nil {
		return nil, r.err
	}
	for _, b := range extra {
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

// expr copies the instructions of r to out.
func (rw *rewriter) expr(r *reader, out *[]byte) error {
	for r.p < len(r.b) {
		start := r.p
		op := r.byte()
		var replace []byte
		switch {
		case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
			r.blockType()
		case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1:
		case op == 0x0c || op == 0x0d || op == 0xd2 || (op >= 0x20 && op <= 0x26) || op == 0x10 || op == 0x12:
			r.u32()
		case op == 0x0e: // br_table
			for k := r.u32(); k > 0 && r.err == nil; k-- {
				r.u32()
			}
			r.u32()
		case op == 0x11 || op == 0x13: // call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select t*
			for k := r.u32(); k > 0 && r.err == nil; k-- {
				r.byte()
			}
		case op >= 0x28 && op <= 0x3e: // loads, stores: memarg
			r.u32()
			r.u32()
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			r.u32()
		case op == 0x41:
			r.s32()
		case op == 0x42:
			r.s64()
		case op == 0x43:
			r.skip(4)
		case op == 0x44:
			r.skip(8)
		case op >= 0x45 && op <= 0xc4: // numeric, conversions, sign extension
		case op == 0xd0: // ref.null
			r.byte()
		case op == 0xfc:
			switch sub := r.u32(); {
			case sub <= 7: // saturating truncation
			case sub == 8: // memory.init
				r.u32()
				r.u32()
			case sub == 10: // memory.copy
				if r.u32() != 0 || r.u32() != 0 {
					return errors.New("memory.copy of a memory other than 0")
				}
				replace = rw.copyCall
			case sub == 11: // memory.fill
				if r.u32() != 0 {
					return errors.New("memory.fill of a memory other than 0")
				}
				replace = rw.fillCall
			case sub == 9 || sub == 13 || (sub >= 15 && sub <= 17):
				r.u32()
			case sub == 12 || sub == 14:
				r.u32()
				r.u32()
			default:
				return fmt.Errorf("unknown 0xfc opcode %d", sub)
			}
		default:
			return fmt.Errorf("unsupported opcode %#x at %d", op, start)
		}
		if r.err != nil {
			return r.err
		}
		if replace != nil {
			*out = append(*out, replace...)
			rw.bulk++
			continue
		}
		*out = append(*out, r.b[start:r.p]...)
		if op == 0x03 {
			*out = append(*out, rw.check...)
			rw.loops++
		}
	}
	return nil
}

type reader struct {
	b   []byte
	p   int
	err error
}

var errTruncated = errors.New("instrument: truncated")

func (r *reader) byte() byte {
	if r.p >= len(r.b) {
		r.err = errTruncated
		return 0x0b
	}
	c := r.b[r.p]
	r.p++
	return c
}

func (r *reader) skip(n int) {
	if r.p+n > len(r.b) {
		r.err = errTruncated
		r.p = len(r.b)
		return
	}
	r.p += n
}

func (r *reader) leb(max int) (uint64, int) {
	var v uint64
	var shift uint
	for i := 0; i < max; i++ {
		c := r.byte()
		if r.err != nil {
			return 0, 0
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			return v, int(shift)
		}
	}
	r.err = errors.New("instrument: LEB128 too long")
	return 0, 0
}

func (r *reader) u32() uint32 { v, _ := r.leb(5); return uint32(v) }

func (r *reader) s32() int32 {
	v, shift := r.leb(5)
	if shift < 64 && shift > 0 && v&(1<<(shift-1)) != 0 {
		v |= ^uint64(0) << shift
	}
	return int32(v)
}

func (r *reader) s64() { r.leb(10) }

func (r *reader) name() string {
	n := int(r.u32())
	if r.p+n > len(r.b) {
		r.err = errTruncated
		return ""
	}
	s := string(r.b[r.p : r.p+n])
	r.p += n
	return s
}

func (r *reader) limits() {
	if flags := r.byte(); flags&1 != 0 {
		r.u32()
		r.u32()
	} else {
		r.u32()
	}
}

// blockType is 0x40, a value type (one byte, high bit clear after sign
// extension: 0x7f..0x6f), or a type index as a positive s33.
func (r *reader) blockType() {
	if r.p >= len(r.b) {
		r.err = errTruncated
		return
	}
	c := r.b[r.p]
	if c == 0x40 || (c >= 0x6f && c <= 0x7f) {
		r.p++
		return
	}
	r.leb(5)
}

func appendS32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
