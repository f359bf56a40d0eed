#!/usr/bin/env bash
# Installs a build into a temporary prefix (`cmake --install BUILD --prefix P`)
# and checks what a user gets: the files, a C++ program built against
# find_package(dlt) / dlt::dlt that runs and computes the right gradient,
# the installed `dlt` running from the prefix, and Lmod's `module load dlt`
# putting it on PATH.
#
#   tests/install/install_test.sh BUILD_DIR        (ctest: install)
set -euo pipefail
build=$(cd "${1:?usage: install_test.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log" >&2; fail "cmake --install"; }
version=$("$build/dlt" --version | awk '{print $2}')
lib=$(dirname "$(find "$prefix" -name 'libdlt.so' -print -quit)")
[[ -n $lib && $lib != . ]] || fail "no libdlt.so under $prefix"
for f in bin/dlt include/dlt/core/tensor.h include/dlt/ops/ops.h include/dlt/autograd/engine.h \
         "share/modulefiles/dlt/$version.lua"; do
  [[ -e $prefix/$f ]] || fail "$f is not installed"
done
[[ -e $lib/cmake/dlt/dltConfig.cmake && -e $lib/cmake/dlt/dltTargets.cmake ]] || fail "no CMake package in $lib/cmake/dlt"

# A program against the installed package only (not the source tree).
cmake -S "$src/tests/install/example" -B "$tmp/example" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log" >&2; fail "configuring the example"; }
cmake --build "$tmp/example" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; fail "building the example"; }
out=$("$tmp/example/example")
[[ $out == "loss 3.50 grad 1 -2 3 1 -2 3" ]] || fail "the example printed '$out'"
echo "install_test: the example built against $prefix prints: $out"

[[ $("$prefix/bin/dlt" --version) == "dlt $version" ]] || fail "the installed dlt does not run"
# SentencePiece is a library of its own, opened from the install's library folder.
[[ -e $lib/libdlt_sentencepiece.so ]] || fail "libdlt_sentencepiece.so is not installed beside libdlt.so"
for i in $(seq 200); do echo "In the beginning God created the heaven and the earth. $i"; done >"$tmp/text.txt"
"$prefix/bin/dlt" data import text "$tmp/text.txt" --out "$tmp/sp.h5" --vocab sentencepiece --vocab-size 300 \
  >"$tmp/sp.log" 2>&1 || { cat "$tmp/sp.log" >&2; fail "the installed dlt cannot train a SentencePiece vocabulary"; }
echo "install_test: the installed dlt trains a SentencePiece vocabulary through $lib/libdlt_sentencepiece.so"

# Lmod: the modulefile finds its prefix from its own path.
lmod_init=/usr/share/lmod/lmod/init/bash
if [[ ! -f $lmod_init ]]; then
  echo "install_test: SKIPPED the modulefile check: Lmod is not installed (apt-get install lmod)"
  exit 0
fi
(
  set +u  # Lmod's shell functions read unset variables
  source "$lmod_init"
  module use "$prefix/share/modulefiles"
  module load dlt
  [[ $(command -v dlt) == "$prefix/bin/dlt" ]] || fail "after module load, dlt is $(command -v dlt)"
  [[ $(dlt --version) == "dlt $version" ]] || fail "module-loaded dlt --version"
  [[ ":$CMAKE_PREFIX_PATH:" == *":$prefix:"* && $DLT_ROOT == "$prefix" ]] || fail "CMAKE_PREFIX_PATH/DLT_ROOT not set"
  module unload dlt
  [[ $(command -v dlt || true) != "$prefix/bin/dlt" ]] || fail "module unload left dlt on PATH"
  echo "install_test: module load dlt -> $prefix/bin/dlt ($version)"
)
