#!/usr/bin/env bash
# The daemon at work on the shipped example sets, with its files kept in
# out/daemon (not in your home): start, watch, status, export, stop.
set -euo pipefail
BIN=${1:-bin/toppass}
D=$(pwd)/out/daemon
rm -rf "$D" && mkdir -p "$D/run" "$D/sets"
export XDG_CONFIG_HOME=$D/config XDG_DATA_HOME=$D/data XDG_STATE_HOME=$D/state \
       XDG_CACHE_HOME=$D/cache XDG_RUNTIME_DIR=$D/run
cp -r testdata/sets/folders "$D/sets/folders"
mkdir -p "$D/sets/sample"
cp testdata/sample/problems.jsonl testdata/sample/candidates.jsonl "$D/sets/sample/"
mkdir -p "$XDG_CONFIG_HOME/toppass"
printf 'timeout = "1s"\n' > "$XDG_CONFIG_HOME/toppass/config.toml"
trap '"$BIN" stop >/dev/null 2>&1 || true' EXIT
"$BIN" watch "$D/sets/folders"        # starts the daemon
"$BIN" watch "$D/sets/sample"
for _ in $(seq 1 120); do
  if "$BIN" status --json | grep -q '"pending": 0' && ! "$BIN" status --json | grep -q '"state": "\(queued\|running\)"'; then
    break
  fi
  sleep 0.5
done
"$BIN" status
# A ranking through the daemon (hybrid: neural score + the prompts' examples),
# then the same again, answered from its cache.
"$BIN" rank --daemon --method hybrid --problems testdata/sample/problems.jsonl \
  --candidates testdata/sample/candidates.jsonl --out "$D/ranked.jsonl"
"$BIN" rank --daemon --method hybrid --problems testdata/sample/problems.jsonl \
  --candidates testdata/sample/candidates.jsonl --out "$D/ranked.jsonl"
echo "--- best candidate per problem (rank 1):"
grep '"rank":1,' "$D/ranked.jsonl" | sed -E 's/.*"task_id":"([^"]*)".*"index":([0-9]+).*"score":([-0-9.e]+).*"p_pass":([0-9.e-]+).*"examples_passed":([0-9]+),"examples":([0-9]+).*/  \1 #\2  score \3  P(pass) \4  examples \5\/\6/'
"$BIN" export labels --out "$D/labels.jsonl"
"$BIN" stop
