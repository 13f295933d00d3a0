#!/usr/bin/env bash
# build.sh rebuilds wasm/python.wasm.zst and wasm/stdlib.zip from Debian
# bookworm's CPython 3.11 source with Debian's own clang/lld/wasi-libc.
#
# Stages (each is skipped when its output already exists, so a failed build
# can be resumed; set CLEAN=1 to start over):
#   deps    apt packages: clang-19, lld-19, wasi-libc, compiler-rt for wasm32
#   source  apt-get source python3.11 (pinned version), autoconf -f
#   native  a native build python (CPython's cross build needs one)
#   wasi    the wasm32-wasi cross build (libpython3.11.a, Modules/*)
#   embed   links embed/toppass.c against libpython into a reactor module
#   pack    strips, zstd-compresses python.wasm, zips the trimmed stdlib as .pyc
#
# The build runs in a fixed folder ($BUILD, default /tmp/toppass-wasm-build)
# with SOURCE_DATE_EPOCH pinned, so a rebuild on another machine gives the
# same bytes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${BUILD:-/tmp/toppass-wasm-build}"
PYVER="${PYVER:-3.11.2-6+deb12u8}"
LLVM="${LLVM:-19}"
JOBS="${JOBS:-$(nproc)}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
STAGES="${*:-deps source native wasi embed pack}"

log() { printf '== %s\n' "$*" >&2; }
want() { [[ " $STAGES " == *" $1 "* ]]; }

[[ "${CLEAN:-0}" == 1 ]] && rm -rf "$BUILD"
mkdir -p "$BUILD"

if want deps; then
  log "deps: Debian packages"
  if ! grep -rqs "^Types:.*deb-src" /etc/apt/sources.list.d/ && ! grep -qs "^deb-src" /etc/apt/sources.list; then
    cat >/etc/apt/sources.list.d/toppass-deb-src.sources <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "clang-$LLVM" "lld-$LLVM" "llvm-$LLVM" wasi-libc "libclang-rt-$LLVM-dev-wasm32" \
    autoconf autoconf-archive pkg-config dpkg-dev build-essential zstd zip \
    python3-sortedcontainers libffi-dev zlib1g-dev >/dev/null
fi

SRC="$BUILD/python3.11-3.11.2"
if want source && [[ ! -f "$SRC/.toppass-source" ]]; then
  log "source: python3.11=$PYVER"
  (cd "$BUILD" && rm -rf python3.11-* && apt-get source -qq "python3.11=$PYVER")
  # Debian's patches touch configure.ac: regenerate configure.
  (cd "$SRC" && autoconf -f -i 2>/dev/null || autoconf -f)
  touch "$SRC/.toppass-source"
fi

# WASI_SDK_PATH as CPython's Tools/wasm/wasi-env expects it, made of wrappers
# around Debian's tools and a private sysroot of links to Debian's wasm32-wasi
# headers and libraries (host headers such as zlib.h must stay out).
SDK="$BUILD/wasi-sdk"
if want wasi || want embed; then
  mkdir -p "$SDK/bin" "$SDK/share/wasi-sysroot/include" "$SDK/share/wasi-sysroot/lib"
  ln -sfn /usr/include/wasm32-wasi "$SDK/share/wasi-sysroot/include/wasm32-wasi"
  ln -sfn /usr/lib/wasm32-wasi "$SDK/share/wasi-sysroot/lib/wasm32-wasi"
  for t in clang clang++ clang-cpp; do
    extra=""
    [[ $t == clang-cpp ]] && extra=""
    cat >"$SDK/bin/$t" <<W
#!/bin/sh
exec $t-$LLVM --target=wasm32-wasi --sysroot=$SDK/share/wasi-sysroot -resource-dir=\$(clang-$LLVM -print-resource-dir) $extra "\$@"
W
    chmod +x "$SDK/bin/$t"
  done
  ln -sfn "/usr/bin/wasm-ld-$LLVM" "$SDK/bin/wasm-ld"
  ln -sfn "/usr/bin/llvm-ar-$LLVM" "$SDK/bin/llvm-ar"
  ln -sfn "/usr/bin/llvm-ranlib-$LLVM" "$SDK/bin/ranlib"
  ln -sfn "/usr/bin/llvm-ranlib-$LLVM" "$SDK/bin/llvm-ranlib"
  ln -sfn "/usr/bin/llvm-strip-$LLVM" "$SDK/bin/llvm-strip"
fi

NATIVE="$SRC/builddir/build"
if want native && [[ ! -x "$NATIVE/python" ]]; then
  log "native: build python"
  mkdir -p "$NATIVE"
  (cd "$NATIVE" && ../../configure -q --prefix="$NATIVE/install" >/dev/null && make -s -j"$JOBS" >/dev/null 2>"$BUILD/native.err")
fi

WASI="$SRC/builddir/wasi"
if want wasi && [[ ! -f "$WASI/libpython3.11.a" || ! -f "$WASI/python.wasm" ]]; then
  log "wasi: cross build"
  mkdir -p "$WASI"
  (cd "$WASI" && \
    CONFIG_SITE="$SRC/Tools/wasm/config.site-wasm32-wasi" WASI_SDK_PATH="$SDK" \
    CFLAGS="-Wno-error=int-conversion -Wno-error=incompatible-function-pointer-types -Wno-error=incompatible-pointer-types -ffile-prefix-map=$SRC=/src" \
    "$SRC/Tools/wasm/wasi-env" ../../configure -q \
      --host=wasm32-unknown-wasi --build="$(../../config.guess)" \
      --with-build-python="$NATIVE/python" >/dev/null && \
    WASI_SDK_PATH="$SDK" "$SRC/Tools/wasm/wasi-env" make -s -j"$JOBS" >/dev/null 2>"$BUILD/wasi.err")
fi

OUT="$BUILD/out"
if want embed; then
  log "embed: reactor module"
  mkdir -p "$OUT"
  (cd "$WASI" && \
    "$SDK/bin/clang" -O2 -I. -I"$SRC/Include" -c "$HERE/embed/toppass.c" -o "$OUT/toppass.o" && \
    "$SDK/bin/clang" -mexec-model=reactor -z stack-size=8388608 -Wl,--stack-first \
      -Wl,--export=__stack_pointer -Wl,--export=__heap_base \
      -o "$OUT/python.wasm" "$OUT/toppass.o" libpython3.11.a \
      Modules/_decimal/libmpdec/libmpdec.a Modules/expat/libexpat.a \
      -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks -lm)
  "llvm-strip-$LLVM" "$OUT/python.wasm"
fi

if want pack; then
  log "pack: python.wasm.zst, stdlib.zip, licences"
  zstd -19 -q -f --no-progress "$OUT/python.wasm" -o "$HERE/python.wasm.zst"
  LIB="$OUT/lib/python3.11"
  rm -rf "$OUT/lib" && mkdir -p "$LIB"
  # The pure-Python standard library, less what cannot work in the sandbox
  # (no threads, sockets, subprocesses, ctypes, GUI) or is only for developing
  # CPython itself.
  (cd "$SRC/Lib" && tar --exclude='__pycache__' \
    --exclude=./test --exclude=./idlelib --exclude=./tkinter --exclude=./turtledemo \
    --exclude=./lib2to3 --exclude=./ensurepip --exclude=./distutils --exclude=./pydoc_data \
    --exclude=./venv --exclude=./ctypes --exclude=./sqlite3 --exclude=./curses \
    --exclude=./dbm --exclude=./msilib --exclude=./turtle.py --exclude=./asyncio \
    --exclude=./multiprocessing --exclude=./concurrent --exclude=./email \
    --exclude=./http --exclude=./xmlrpc --exclude=./wsgiref --exclude=./site-packages \
    --exclude=./unittest/test --exclude=./tkinter --exclude=./__phello__ \
    --exclude='./config-*' -cf - .) | tar -C "$LIB" -xf -
  cp "$WASI"/build/lib.wasi-wasm32-3.11/_sysconfigdata_*.py "$LIB/"
  cp -r /usr/lib/python3/dist-packages/sortedcontainers "$LIB/sortedcontainers"
  find "$LIB" -name '__pycache__' -prune -exec rm -rf {} +
  # Sourceless bytecode (foo.pyc beside where foo.py was), hash-based so that
  # rebuilds give identical bytes; the build python is the same 3.11.2.
  "$NATIVE/python" -E -s -m compileall -q -b -j0 -d /lib/python3.11 \
    --invalidation-mode unchecked-hash "$LIB" >/dev/null || true
  find "$LIB" -name '*.py' -delete
  find "$LIB" -name '__pycache__' -prune -exec rm -rf {} +
  find "$LIB" -type f ! -name '*.pyc' -delete
  find "$OUT/lib" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  rm -f "$HERE/stdlib.zip"
  (cd "$OUT" && find lib -type f | LC_ALL=C sort | TZ=UTC zip -q -X -9 "$HERE/stdlib.zip" -@)
  mkdir -p "$HERE/licenses"
  cp "$SRC/LICENSE" "$HERE/licenses/CPython-LICENSE"
  cp "$SRC/Modules/expat/COPYING" "$HERE/licenses/expat-COPYING"
  sed -n '/^libmpdec/,/^zlib/p' "$SRC/Doc/license.rst" >"$HERE/licenses/libmpdec-LICENSE"
  cp /usr/share/doc/wasi-libc/copyright "$HERE/licenses/wasi-libc-copyright"
  cp "/usr/share/doc/libclang-rt-$LLVM-dev-wasm32/copyright" "$HERE/licenses/compiler-rt-copyright"
  cp /usr/share/doc/python3-sortedcontainers/copyright "$HERE/licenses/sortedcontainers-copyright"
  (cd "$HERE" && sha256sum python.wasm.zst stdlib.zip >SHA256SUMS && \
    zstd -dc python.wasm.zst | sha256sum | sed 's/-$/python.wasm (uncompressed)/' >>SHA256SUMS)
  printf 'CPython %s (Debian python3.11=%s), clang-%s, wasi-libc %s\n' \
    "$("$NATIVE/python" -c 'import platform;print(platform.python_version())')" "$PYVER" "$LLVM" \
    "$(dpkg-query -W -f='${Version}' wasi-libc)" >"$HERE/VERSION"
  log "done: $(cat "$HERE/VERSION")"
fi
