package ranker

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/klauspost/compress/zstd"
)

// Weights file format (weights.bin.zst): zstd of
//
//	"TPW1" | uint32 header length | header JSON | raw little-endian data
//
// The header lists every variable (scope, name, dtype, dims) in order. One
// file holds a whole checkpoint — model, optimizer moments and global step
// when training, the model alone when shipped — and is written through a
// temporary file and a rename, so a kill leaves the previous one intact.

type varHeader struct {
	Scope string `json:"scope"`
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Dims  []int  `json:"dims"`
}

const weightsMagic = "TPW1"

// isOptimizerVar: the optimizer's variables (Adam's moments, the learning
// rate, step counters) live in these scopes.
func isOptimizerVar(scope string) bool {
	return strings.HasPrefix(scope, "/optimizers") || strings.HasPrefix(scope, "/AdamOptimizer")
}

// EncodeWeights serialises ctx's variables; withOptimizer keeps the
// optimizer's state too (for resuming).
func EncodeWeights(ctx *context.Context, withOptimizer bool) ([]byte, error) {
	var hdr []varHeader
	var data bytes.Buffer
	for v := range ctx.IterVariables() {
		if !withOptimizer && (isOptimizerVar(v.Scope()) || v.Name() == "global_step") {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.ScopeAndName(), err)
		}
		hdr = append(hdr, varHeader{v.Scope(), v.Name(), t.DType().String(), t.Shape().Dimensions})
		if err := t.ConstBytes(func(b []byte) { data.Write(b) }); err != nil {
			return nil, err
		}
	}
	h, err := json.Marshal(hdr)
	if err != nil {
		return nil, err
	}
	var raw bytes.Buffer
	raw.WriteString(weightsMagic)
	binary.Write(&raw, binary.LittleEndian, uint32(len(h)))
	raw.Write(h)
	raw.Write(data.Bytes())
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	return enc.EncodeAll(raw.Bytes(), nil), nil
}

// DecodeWeights sets ctx's variables from EncodeWeights' output.
func DecodeWeights(ctx *context.Context, compressed []byte) error {
	dec, err := zstd.NewReader(nil)
	if err != nil {
		return err
	}
	defer dec.Close()
	raw, err := dec.DecodeAll(compressed, nil)
	if err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	r := bytes.NewReader(raw)
	magic := make([]byte, 4)
	var n uint32
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != weightsMagic {
		return fmt.Errorf("weights: not a toppass weights file")
	}
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || int(n) > r.Len() {
		return fmt.Errorf("weights: bad header")
	}
	h := make([]byte, n)
	io.ReadFull(r, h)
	var hdr []varHeader
	if err := json.Unmarshal(h, &hdr); err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	for _, vh := range hdr {
		dt, err := dtypes.DTypeString(vh.DType)
		if err != nil {
			return fmt.Errorf("weights: %s/%s: %w", vh.Scope, vh.Name, err)
		}
		t := tensors.FromShape(shapes.Make(dt, vh.Dims...))
		var rerr error
		t.MutableBytes(func(b []byte) {
			if _, err := io.ReadFull(r, b); err != nil {
				rerr = fmt.Errorf("weights: %s/%s: truncated", vh.Scope, vh.Name)
			}
		})
		if rerr != nil {
			return rerr
		}
		vctx := ctx.InAbsPath(vh.Scope).Checked(false)
		if v := vctx.GetVariable(vh.Name); v != nil {
			if !v.Shape().Equal(t.Shape()) {
				return fmt.Errorf("weights: %s/%s has shape %s, the model wants %s", vh.Scope, vh.Name, t.Shape(), v.Shape())
			}
			v.MustSetValue(t)
		} else {
			vctx.VariableWithValue(vh.Name, t)
		}
	}
	return nil
}
