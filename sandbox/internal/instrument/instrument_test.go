package instrument

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/toppass/toppass/wasm"
)

func TestFuelOnCPython(t *testing.T) {
	bin, err := wasm.Python()
	if err != nil {
		t.Fatal(err)
	}
	out, info, err := Fuel(bin)
	if err != nil {
		t.Fatal(err)
	}
	loops := info.Loops
	if loops < 1000 {
		t.Fatalf("only %d loops instrumented", loops)
	}
	// Each check is about 18 bytes.
	if grow := len(out) - len(bin); grow < 15*loops || grow > 40*loops {
		t.Fatalf("module grew by %d bytes for %d loops", grow, loops)
	}
	// wazero validates the whole module when compiling it.
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, out); err != nil {
		t.Fatalf("instrumented module does not validate: %v", err)
	}
	again, info2, err := Fuel(bin)
	if err != nil || info2 != info || !bytes.Equal(again, out) {
		t.Fatal("instrumentation is not deterministic")
	}
}

func TestFuelErrors(t *testing.T) {
	if _, _, err := Fuel([]byte("not wasm at all")); err == nil {
		t.Error("no error for a non-module")
	}
	bin, _ := wasm.Python()
	if _, _, err := Fuel(bin[:len(bin)/2]); err == nil {
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

// tinyModule is a hand-written module: run(n) loops n times, then copies
// and fills 64 KiB with bulk memory instructions.
func tinyModule() []byte {
	sec := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, sec(1, 2, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 0)...)
	imp := []byte{1, 22}
	imp = append(imp, "wasi_snapshot_preview1"...)
	imp = append(imp, 11)
	imp = append(imp, "sched_yield"...)
	m = append(m, sec(2, append(imp, 0, 0)...)...)
	m = append(m, sec(3, 1, 1)...)
	m = append(m, sec(5, 1, 0, 2)...)
	m = append(m, sec(6, 1, 0x7f, 1, 0x41, 0, 0x0b)...)
	m = append(m, sec(7, 2, 3, 'r', 'u', 'n', 0, 1, 3, 'm', 'e', 'm', 2, 0)...)
	body := []byte{0,
		0x02, 0x40, 0x03, 0x40, // block, loop
		0x20, 0, 0x45, 0x0d, 1, // local.get 0; i32.eqz; br_if 1
		0x20, 0, 0x41, 1, 0x6b, 0x21, 0, // n--
		0x0c, 0, 0x0b, 0x0b, // br 0; end; end
		0x41, 0, 0x41, 0x80, 0x80, 0x04, 0x41, 0x80, 0x80, 0x04, 0xfc, 0x0a, 0, 0, // memory.copy(0, 65536, 65536)
		0x41, 0, 0x41, 7, 0x41, 0x80, 0x80, 0x04, 0xfc, 0x0b, 0, // memory.fill(0, 7, 65536)
		0x0b}
	code := append([]byte{1, byte(len(body))}, body...)
	return append(m, sec(10, code...)...)
}

// The countdown counts loop iterations and charges bulk memory operations
// by length, exactly; the host is called when it runs out.
func TestFuelCounts(t *testing.T) {
	out, info, err := Fuel(tinyModule())
	if err != nil {
		t.Fatal(err)
	}
	if info.Loops != 1 || info.BulkOps != 2 {
		t.Fatalf("info %+v", info)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	var fuel api.MutableGlobal
	yields := 0
	_, err = rt.NewHostModuleBuilder("wasi_snapshot_preview1").NewFunctionBuilder().
		WithFunc(func() int32 {
			yields++
			fuel.Set(1 << 30)
			return 0
		}).Export("sched_yield").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig())
	if err != nil {
		t.Fatal(err)
	}
	fuel = mod.ExportedGlobal(FuelGlobal).(api.MutableGlobal)
	const start = 1 << 20
	fuel.Set(start)
	if _, err := mod.ExportedFunction("run").Call(ctx, 100); err != nil {
		t.Fatal(err)
	}
	// 101 loop headers (the entry and 100 branches back), 2 x 65536 bytes.
	if used, want := start-int64(int32(fuel.Get())), int64(101+2*(65536>>ByteShift)); used != want || yields != 0 {
		t.Fatalf("used %d fuel with %d yields, want %d and none", used, yields, want)
	}
	if b, _ := mod.Memory().ReadByte(100); b != 7 {
		t.Fatalf("memory.fill did not run: %d", b)
	}
	fuel.Set(10)
	if _, err := mod.ExportedFunction("run").Call(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if yields != 1 {
		t.Fatalf("%d yields, want 1", yields)
	}
}
