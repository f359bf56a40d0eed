#!/usr/bin/env bash
# The test suites built with sanitizers (GCC), then run: any report fails them.
#
#   scripts/sanitize.sh            AddressSanitizer + UndefinedBehaviorSanitizer
#                                  (build-asan): ctest unit, ops.gradcheck, dist
#   scripts/sanitize.sh --thread   ThreadSanitizer (build-tsan): the data
#                                  loader's suites, then ctest dist
#   scripts/sanitize.sh -R unit    other ctest arguments (either mode)
#
# -O2 (as release: GCC fuses multiply-adds from -O2 on, and tests compare
# with torch at that rounding), line tables only (-g1) and one CPU kernel set
# (-DDLT_NATIVE=ON): the least build time that still names file and line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode=address,undefined
if [[ ${1:-} == --thread ]]; then
  mode=thread
  shift
fi
build=${DLT_SANITIZE_BUILD_DIR:-build-$([[ $mode == thread ]] && echo tsan || echo asan)}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}  # as scripts/fuzz.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
  "-DDLT_SANITIZE=$mode" -DDLT_NATIVE=ON "${launcher[@]}" >/dev/null
cmake --build "$build" -j "${DLT_JOBS:-2}" --target dlt_tests dlt_cli
args=("$@")
if [[ $mode == thread ]]; then
  # libgomp is not built with ThreadSanitizer, so it cannot see OpenMP's
  # barriers: one thread per process keeps every parallel region inline
  # (the loader's threads and the distributed reducer's are std::threads).
  export OMP_NUM_THREADS=1
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitize/tsan.supp}
  if ((${#args[@]} == 0)); then
    "$build/tests/dlt_tests" --gtest_filter='Loader.*:Sampler.*:TokenDataset.*:ArrayDataset.*:Transforms.*:CliTrain.*'
    args=(-R "^dist$")
  fi
else
  # OpenMP's and OpenMPI's runtimes keep allocations for the process's life
  # (tests/sanitize/lsan.supp). MPI's plugins stay loaded, so a report names
  # them; the distributed runs unwind allocations by DWARF (slower): the fast
  # unwinder loses its way in libraries built without frame pointers.
  export OMPI_MCA_mca_base_component_disable_dlclose=1 PMIX_MCA_mca_base_component_disable_dlclose=1
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  if ((${#args[@]} == 0)); then
    ctest --test-dir "$build" --output-on-failure -R "^(unit|ops.gradcheck)$"
    ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=0 ctest --test-dir "$build" --output-on-failure -R "^dist$"
    exit
  fi
fi
ctest --test-dir "$build" --output-on-failure "${args[@]}"
