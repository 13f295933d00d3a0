// Package instrument rewrites a WebAssembly module so that every loop can
// be stopped from outside at almost no cost.
//
// Why: a sandbox must stop a program at its deadline. wazero's
// WithCloseOnContextDone does so by leaving native code for Go at every
// loop header; CPython runs its bytecode dispatch and its C loops (bigint
// arithmetic, string and list operations) through such headers, which made
// a Python loop 3x and bigint arithmetic 12-18x slower.
//
// Loops adds one mutable i32 global, a countdown, and inserts at the head of
// every loop
//
//	global.get $n; i32.const 1; i32.sub; global.set $n
//	global.get $n; i32.eqz
//	if; i32.const EVERY; global.set $n; call $sched_yield; drop; end
//
// so that every EVERY loop iterations the program calls WASI's sched_yield,
// a host function. The host serves it with a check of the run's stop state
// and ends the run from there (a panic with an exit error unwinds the call
// cleanly). The call into Go matters for a second reason: native wasm code
// cannot be preempted, so a program that never called the host would also
// hold up Go's stop-the-world phases, and with them the very timer that is
// to stop it. A long computation must loop, or recurse until the stack runs
// out, so it always reaches a check.
package instrument

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Loops instruments every loop of module to call the imported
// wasi_snapshot_preview1.sched_yield once every `every` iterations (all
// loops together). It returns the new module and the number of loops.
func Loops(module []byte, every int32) ([]byte, int, error) {
	if every < 1 {
		return nil, 0, errors.New("instrument: every must be positive")
	}
	r := &reader{b: module}
	if len(module) < 8 || !bytes.Equal(module[:4], []byte("\x00asm")) {
		return nil, 0, errors.New("instrument: not a wasm module")
	}
	r.p = 8
	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	for r.p < len(r.b) {
		id := r.byte()
		n := r.u32()
		if r.err != nil || r.p+int(n) > len(r.b) {
			return nil, 0, errors.New("instrument: truncated section")
		}
		secs = append(secs, section{id, r.b[r.p : r.p+int(n)]})
		r.p += int(n)
	}
	if r.err != nil {
		return nil, 0, r.err
	}
	var imports, globals, code []byte
	for _, s := range secs {
		switch s.id {
		case 2:
			imports = s.body
		case 6:
			globals = s.body
		case 10:
			code = s.body
		}
	}
	if globals == nil || code == nil {
		return nil, 0, errors.New("instrument: module has no global or code section")
	}
	yield, importedGlobals, err := scanImports(imports)
	if err != nil {
		return nil, 0, err
	}
	// The countdown is a new global after all others: existing indexes
	// stay as they are.
	gr := &reader{b: globals}
	defined := gr.u32()
	if gr.err != nil {
		return nil, 0, gr.err
	}
	counter := uint32(importedGlobals) + defined
	newGlobals := binary.AppendUvarint(nil, uint64(defined+1))
	newGlobals = append(newGlobals, globals[gr.p:]...)
	newGlobals = append(newGlobals, 0x7f, 0x01, 0x41)
	newGlobals = appendS32(newGlobals, every)
	newGlobals = append(newGlobals, 0x0b)

	g := binary.AppendUvarint(nil, uint64(counter))
	check := append([]byte{0x23}, g...)                // global.get $n
	check = append(check, 0x41, 0x01, 0x6b, 0x24)      // i32.const 1; i32.sub; global.set
	check = append(check, g...)                        // $n
	check = append(check, 0x23)                        // global.get
	check = append(check, g...)                        // $n
	check = append(check, 0x45, 0x04, 0x40, 0x41)      // i32.eqz; if; i32.const
	check = appendS32(check, every)                    // EVERY
	check = append(check, 0x24)                        // global.set
	check = append(check, g...)                        // $n
	check = append(check, 0x10)                        // call
	check = binary.AppendUvarint(check, uint64(yield)) // $sched_yield
	check = append(check, 0x1a, 0x0b)                  // drop; end

	newCode, loops, err := instrumentCode(code, check)
	if err != nil {
		return nil, 0, err
	}
	out := append([]byte(nil), module[:8]...)
	for _, s := range secs {
		body := s.body
		switch s.id {
		case 6:
			body = newGlobals
		case 10:
			body = newCode
		}
		out = append(out, s.id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	return out, loops, nil
}

// scanImports finds the function index of wasi_snapshot_preview1's
// sched_yield and counts the imported globals.
func scanImports(imports []byte) (yield uint32, globals int, err error) {
	funcs, found := uint32(0), false
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
			return 0, 0, fmt.Errorf("instrument: unknown import kind %#x", kind)
		}
	}
	if r.err != nil {
		return 0, 0, r.err
	}
	if !found {
		return 0, 0, errors.New("instrument: module does not import wasi_snapshot_preview1.sched_yield")
	}
	return yield, globals, nil
}

func instrumentCode(code, check []byte) ([]byte, int, error) {
	r := &reader{b: code}
	n := r.u32()
	out := binary.AppendUvarint(nil, uint64(n))
	loops := 0
	var body []byte
	for i := uint32(0); i < n; i++ {
		size := int(r.u32())
		if r.err != nil || r.p+size > len(r.b) {
			return nil, 0, fmt.Errorf("instrument: function %d: truncated", i)
		}
		fn := &reader{b: r.b[r.p : r.p+size]}
		r.p += size
		// Locals are copied as they are.
		for nl := fn.u32(); nl > 0 && fn.err == nil; nl-- {
			fn.u32()
			fn.byte()
		}
		body = append(body[:0], fn.b[:fn.p]...)
		k, err := instrumentExpr(fn, check, &body)
		if err != nil {
			return nil, 0, fmt.Errorf("instrument: function %d: %w", i, err)
		}
		loops += k
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	if r.err != nil {
		return nil, 0, r.err
	}
	return out, loops, nil
}

// instrumentExpr copies the instructions of r to out, adding check after
// every loop's block type.
func instrumentExpr(r *reader, check []byte, out *[]byte) (int, error) {
	loops := 0
	for r.p < len(r.b) {
		start := r.p
		op := r.byte()
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
			case sub == 9 || sub == 13 || (sub >= 15 && sub <= 17):
				r.u32()
			case sub == 10 || sub == 12 || sub == 14:
				r.u32()
				r.u32()
			case sub == 11:
				r.u32()
			default:
				return 0, fmt.Errorf("unknown 0xfc opcode %d", sub)
			}
		default:
			return 0, fmt.Errorf("unsupported opcode %#x at %d", op, start)
		}
		if r.err != nil {
			return 0, r.err
		}
		*out = append(*out, r.b[start:r.p]...)
		if op == 0x03 {
			*out = append(*out, check...)
			loops++
		}
	}
	return loops, nil
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
