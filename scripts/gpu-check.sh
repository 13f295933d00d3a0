#!/usr/bin/env bash
# gpu-check.sh: the neural ranker on a GPU through XLA, checked and timed
# (docs/ranker.md, "Backends"; figures in docs/benchmarks.md).
#
# Needs a binary and the ranker's test binary built with -tags xla (cgo;
# `make build-xla` makes both, `make gpu-check` runs this on the shared data):
#   CGO_ENABLED=1 go build -tags xla -o bin/toppass-xla ./cmd/toppass
#   CGO_ENABLED=1 go test -c -tags xla -o bin/ranker-xla.test ./ranker
# and a PJRT CUDA plugin: PJRT_PLUGIN_LIBRARY_PATH naming a folder with
# pjrt_c_api_cuda_plugin.so, or a Python with JAX's CUDA plugin
# (jax-cuda12-pjrt / jax-cuda13-pjrt), which this script finds and links.
#
# Steps, each logged to $OUT/NAME.log and none stopping the others:
#   test   the XLA backend scores the sample as the pure-Go path does
#   bench  'toppass bench ranker' on xla:cuda, then on go (same machine)
#   train  the shipped model's recipe for $STEPS steps on xla:cuda, and
#          $GO_STEPS steps of it on go, from the same seed (when $LC_SET
#          names problems,candidates,labels)
#
# Environment: BIN, TEST (the two binaries), OUT (logs, default
# out/gpu-check), BENCH_PROBLEMS / BENCH_CANDIDATES (default: the shipped
# sample), LC_SET, STATIC_CACHE (a static-cache.jsonl to start the model
# folders with), STEPS (600), GO_STEPS (60).
set -u
BIN=$(realpath "${BIN:-bin/toppass-xla}")
TEST=$(realpath "${TEST:-bin/ranker-xla.test}")
OUT=${OUT:-out/gpu-check}
STEPS=${STEPS:-600}
GO_STEPS=${GO_STEPS:-60}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")

log() { echo "== $(date +%T) $*"; }

# The PJRT plugin: JAX's, linked under the name go-xla looks for, with
# JAX's NVIDIA libraries beside it where the plugin's RPATH expects them.
if [ -z "${PJRT_PLUGIN_LIBRARY_PATH:-}" ]; then
	so=$(python3 -c 'import site; print("\n".join(site.getsitepackages()))' 2>/dev/null |
		while read -r d; do ls "$d"/jax_plugins/xla_cuda*/xla_cuda_plugin.so 2>/dev/null; done | head -n 1)
	if [ -z "$so" ]; then
		echo "no PJRT CUDA plugin: set PJRT_PLUGIN_LIBRARY_PATH or install JAX's CUDA plugin" >&2
		exit 2
	fi
	site=$(dirname "$(dirname "$(dirname "$so")")")
	root=$(mktemp -d)
	mkdir -p "$root/pjrt"
	ln -s "$so" "$root/pjrt/pjrt_c_api_cuda_plugin.so"
	[ -d "$site/nvidia" ] && ln -s "$site/nvidia" "$root/nvidia"
	export PJRT_PLUGIN_LIBRARY_PATH=$root/pjrt
	log "PJRT plugin: $so; NVIDIA libraries: $(ls "$site/nvidia" 2>/dev/null | tr '\n' ' ')"
	# XLA looks for libdevice under --xla_gpu_cuda_data_dir.
	if [ -z "${XLA_FLAGS:-}" ]; then
		for d in "$site"/nvidia/cuda_nvcc "$site"/nvidia/cu1[0-9] /usr/local/cuda; do
			if [ -d "$d/nvvm/libdevice" ]; then
				export XLA_FLAGS="--xla_gpu_cuda_data_dir=$d"
				break
			fi
		done
	fi
fi
export GOMLX_NO_AUTO_INSTALL=1
log "XLA_FLAGS=${XLA_FLAGS:-}"
nvidia-smi -L 2>&1 | tee "$OUT/gpu.log"

log "test: XLA scores as Go"
(cd ranker && "$TEST" -test.run 'TestXLA' -test.v -test.count=1) >"$OUT/test.log" 2>&1
echo "rc $?" >>"$OUT/test.log"
tail -n 8 "$OUT/test.log"

bench=()
[ -n "${BENCH_PROBLEMS:-}" ] && bench=(--problems "$BENCH_PROBLEMS" --candidates "$BENCH_CANDIDATES")
for be in xla:cuda go; do
	log "bench ranker --backend $be"
	"$BIN" bench ranker --backend "$be" "${bench[@]}" >"$OUT/bench-${be%%:*}.log" 2>&1
	echo "rc $?" >>"$OUT/bench-${be%%:*}.log"
	cat "$OUT/bench-${be%%:*}.log"
done

if [ -n "${LC_SET:-}" ]; then
	for be in xla:cuda go; do
		steps=$STEPS
		[ "$be" = go ] && steps=$GO_STEPS
		dir=$OUT/model-${be%%:*}
		mkdir -p "$dir"
		[ -n "${STATIC_CACHE:-}" ] && cp "$STATIC_CACHE" "$dir/static-cache.jsonl"
		log "train --backend $be, $steps steps"
		t0=$(date +%s.%N)
		"$BIN" train --backend "$be" --model-dir "$dir" --steps "$steps" --aux-weight 0.2 \
			--no-calibrate --set "$LC_SET" >"$OUT/train-${be%%:*}.log" 2>&1
		echo "rc $? wall $(awk "BEGIN{print $(date +%s.%N) - $t0}") s" >>"$OUT/train-${be%%:*}.log"
		tail -n 3 "$OUT/train-${be%%:*}.log"
		cp "$dir/metrics.jsonl" "$OUT/metrics-${be%%:*}.jsonl" 2>/dev/null
		grep val_ "$dir/metrics.jsonl" 2>/dev/null | tail -n 4
	done
fi
log done
