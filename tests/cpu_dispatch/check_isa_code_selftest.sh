#!/usr/bin/env bash
# check_isa_code.sh must fail on the mistake it guards against: an inline
# function compiled for AVX2 that the linker keeps for every caller because
# its object comes first. Then it must pass with the baseline object first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/shared.h" <<'CPP'
#include <vector>
inline __attribute__((noinline)) double total(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * 1.5;
  return s;
}
CPP
cat >"$dir/copy.cpp" <<'CPP'
#include "shared.h"
namespace dlt::cpu::isa_avx2 { double kernel(const std::vector<double>& v) { return total(v); } }
CPP
cat >"$dir/main.cpp" <<'CPP'
#include "shared.h"
namespace dlt::cpu::isa_avx2 { double kernel(const std::vector<double>& v); }
int main(int argc, char**) {
  std::vector<double> v(100, argc);
  return int(total(v) + (argc > 5 ? dlt::cpu::isa_avx2::kernel(v) : 0)) & 1;
}
CPP
c++ -O2 -c "$dir/main.cpp" -o "$dir/main.o"
c++ -O2 -march=x86-64-v3 -c "$dir/copy.cpp" -o "$dir/copy.o"
c++ "$dir/copy.o" "$dir/main.o" -o "$dir/copy_first"
c++ "$dir/main.o" "$dir/copy.o" -o "$dir/baseline_first"
if "$here/check_isa_code.sh" "$dir/copy_first" >"$dir/out" 2>&1; then
  echo "check_isa_code_selftest: the AVX2 copy of total() kept by the linker went unnoticed:"; cat "$dir/out"
  exit 1
fi
grep -q "total" "$dir/out" || { echo "check_isa_code_selftest: the report does not name total():"; cat "$dir/out"; exit 1; }
"$here/check_isa_code.sh" "$dir/baseline_first"
echo "check_isa_code_selftest: an AVX2 inline function kept by the linker is found; the baseline-first link passes"
