package instrument

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/toppass/toppass/wasm"
)

func TestLoopsOnCPython(t *testing.T) {
	bin, err := wasm.Python()
	if err != nil {
		t.Fatal(err)
	}
	out, loops, err := Loops(bin, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	if loops < 1000 {
		t.Fatalf("only %d loops instrumented", loops)
	}
	// Each check is about 25 bytes.
	if grow := len(out) - len(bin); grow < 20*loops || grow > 40*loops {
		t.Fatalf("module grew by %d bytes for %d loops", grow, loops)
	}
	// wazero validates the whole module when compiling it.
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, out); err != nil {
		t.Fatalf("instrumented module does not validate: %v", err)
	}
	again, loops2, err := Loops(bin, 1<<16)
	if err != nil || loops2 != loops || !bytes.Equal(again, out) {
		t.Fatal("instrumentation is not deterministic")
	}
}

func TestLoopsErrors(t *testing.T) {
	if _, _, err := Loops([]byte("not wasm at all"), 1); err == nil {
		t.Error("no error for a non-module")
	}
	bin, _ := wasm.Python()
	if _, _, err := Loops(bin, 0); err == nil {
		t.Error("no error for every=0")
	}
	if _, _, err := Loops(bin[:len(bin)/2], 1<<16); err == nil {
		t.Error("no error for a truncated module")
	}
}

func TestAppendS32(t *testing.T) {
	for v, want := range map[int32][]byte{0: {0}, 63: {63}, 64: {0xc0, 0}, -1: {0x7f}, 8388608: {0x80, 0x80, 0x80, 0x04}} {
		if got := appendS32(nil, v); !bytes.Equal(got, want) {
			t.Errorf("%d: % x, want % x", v, got, want)
		}
		r := &reader{b: appendS32(nil, v)}
		if back := r.s32(); back != v {
			t.Errorf("%d decodes as %d", v, back)
		}
	}
}
