# toppass — see README.md.
GO      ?= go
BIN     := bin/toppass
DATA    ?= ../shared/data

.PHONY: all build demo test test-short bench bench-go wasm vet fmt clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/toppass

# Build, then label the shipped sample: every problem shape, candidates that
# pass, fail, raise, loop, cheat.
demo: build
	rm -f out/sample-labels.jsonl && mkdir -p out
	$(BIN) label --problems testdata/sample/problems.jsonl \
	  --candidates testdata/sample/candidates.jsonl --out out/sample-labels.jsonl --timeout 2s
	@echo "--- out/sample-labels.jsonl (first lines)"; head -n 5 out/sample-labels.jsonl

# All tests; the shared-data checks run when $(DATA) exists (minutes).
test: vet
	TOPPASS_DATA=$(abspath $(DATA)) $(GO) test -count=1 -timeout 45m ./...

test-short:
	$(GO) test -short -count=1 ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Side-by-side benchmark: wasm sandbox vs native python3 on the same candidates.
bench: build
	$(BIN) bench sandbox --data $(DATA)

bench-go:
	$(GO) test -run XXX -bench . -benchtime 20x ./sandbox

# Rebuild the CPython WASI artifact from Debian's sources (needs root, apt).
wasm:
	bash wasm/build.sh

clean:
	rm -rf bin out
