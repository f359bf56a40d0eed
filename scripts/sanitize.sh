#!/usr/bin/env bash
# The unit tests built with AddressSanitizer and UndefinedBehaviorSanitizer
# (GCC, build-asan, -DDLT_SANITIZE=ON), then run: a memory error, leak or
# undefined behaviour fails them. Extra arguments go to ctest.
#
#   scripts/sanitize.sh                 # ctest unit, ops.gradcheck, dist
#   scripts/sanitize.sh -R unit
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${DLT_ASAN_BUILD_DIR:-build-asan}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}  # as scripts/fuzz.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDLT_SANITIZE=ON "${launcher[@]}" >/dev/null
cmake --build "$build" -j "${DLT_JOBS:-2}" --target dlt_tests dlt_cli
# OpenMP's and OpenMPI's runtimes keep allocations for the process's life.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
args=("$@")
((${#args[@]})) || args=(-R "^(unit|ops.gradcheck|dist)$")
ctest --test-dir "$build" --output-on-failure "${args[@]}"
