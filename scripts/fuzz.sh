#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang-16, AddressSanitizer
# and UndefinedBehaviorSanitizer (build-fuzz; the whole library is
# instrumented), then runs each for a bounded time from its seed corpus
# (tests/fuzz/corpus/<target>). A crash, sanitizer report, timeout (10 s an
# input) or allocation past 2 GB fails the run; the input is left in
# build-fuzz/crashes/ (add it to the corpus with the fix).
#
#   scripts/fuzz.sh                # every target, 30 s each
#   SECONDS_EACH=300 scripts/fuzz.sh fuzz_safetensors
#
# fuzz_hdf5 runs its corpus only (each input once), unless FUZZ_EXPLORE_ALL=1:
# exploring finds damaged files on which libhdf5 itself crashes or allocates
# without bound (found: a SEGV in H5Ovisit, which dlt no longer calls, and a
# 2 GB allocation loop inside the library), which dlt cannot fix; its corpus
# keeps the inputs whose fixes are dlt's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
each=${SECONDS_EACH:-30}
command -v clang++-16 >/dev/null || { echo "fuzz: installing clang-16 and libFuzzer" >&2;
  apt-get install -y -q --no-install-recommends clang-16 libclang-rt-16-dev libomp-16-dev >&2; }
build=${DLT_FUZZ_BUILD_DIR:-build-fuzz}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
# Debug info (-g) names source paths: relative ones let another checkout hit the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
# The targets read files, not kernels: one CPU kernel set (-march=native) is enough.
CC=clang-16 CXX=clang++-16 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDLT_FUZZ=ON \
  -DDLT_TESTS=OFF -DDLT_MPI=OFF -DDLT_NATIVE=ON "${launcher[@]}" >/dev/null
targets=("$@")
((${#targets[@]})) || targets=($(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//'))
cmake --build "$build" -j "${DLT_JOBS:-2}" --target "${targets[@]}"
mkdir -p "$build/crashes"
# Leaks: a parser may keep caches (HDF5's); only real memory errors count.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${targets[@]}"; do
  corpus=tests/fuzz/corpus/${t#fuzz_}
  work=$build/corpus/${t#fuzz_}
  mkdir -p "$work"
  mode=(-max_total_time="$each")
  if [[ $t == fuzz_hdf5 && ${FUZZ_EXPLORE_ALL:-0} != 1 ]]; then
    mode=(-runs=0)  # the corpus inputs, once each
    echo "fuzz: $t: its corpus only (libhdf5's own crashes; FUZZ_EXPLORE_ALL=1 explores)"
  else
    echo "fuzz: $t for ${each} s (seeds: $corpus)"
  fi
  if ! "$build/tests/fuzz/$t" "$work" "$corpus" "${mode[@]}" -timeout=10 -rss_limit_mb=2048 \
       -malloc_limit_mb=2048 -artifact_prefix="$build/crashes/$t-" -print_final_stats=1 >"$build/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; the end of $build/$t.log:" >&2
    tail -40 "$build/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/$t.log" | tail -2 | sed 's/^/  /'
  fi
done
exit $status
