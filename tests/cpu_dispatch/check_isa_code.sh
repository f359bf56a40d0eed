#!/usr/bin/env bash
# Checks that a portable dlt binary or library runs on any x86-64 CPU until
# the dispatch picks a kernel set: no instruction beyond baseline x86-64 (VEX
# or EVEX encodings, ymm/zmm/mask registers, BMI, LZCNT, MOVBE, POPCNT,
# SSE4 rounding) in
#   - any global or weak function outside the per-set kernel copies
#     (namespaces dlt::cpu::isa_avx2, isa_avx512, isa_avx512_bf16): a copy's
#     inline function kept by the linker in place of the baseline one fails;
#   - any static initialiser (they run at start-up on every CPU).
# Local functions (a copy's .constprop/.isra clones of a std:: template) are
# called from their own object only, so from code of the same set.
#   tests/cpu_dispatch/check_isa_code.sh build/dlt build/libdlt.so
set -euo pipefail
status=0
for file in "$@"; do
  [[ -f $file ]] || { echo "check_isa_code: $file: no such file" >&2; exit 2; }
  if ! nm -C "$file" 2>/dev/null | grep 'dlt::cpu::isa_avx2::' >/dev/null; then
    echo "check_isa_code: $file carries no per-set kernel copies (a -DDLT_NATIVE=ON build?)" >&2
    exit 77
  fi
  locals=$(mktemp)
  nm --defined-only "$file" | awk '$2 == "t" { print $3 }' >"$locals"
  report=$(objdump -d --no-show-raw-insn "$file" | awk -v locals="$locals" '
    BEGIN { while ((getline name < locals) > 0) local["<" name ">:"] = 1 }
    /^[0-9a-f]+ <.*>:$/ {
      fn = $2
      startup = (fn ~ /^<_GLOBAL__sub_I_|^<_Z41__static_initialization_and_destruction/)
      skip = !startup && (fn in local || fn ~ /isa_avx(2|512)/)
      next
    }
    skip { next }
    {
      tab = index($0, ":\t"); if (tab == 0) next
      insn = substr($0, tab + 2); split(insn, part, /[ \t]+/); op = part[1]
      if (op ~ /^v/ && op !~ /^ver[rw]$/ || insn ~ /%[yz]mm|%k[0-7]/ ||
          op ~ /^(andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|lzcnt|movbe|popcnt|round[ps][sd])$/) {
        if (!(fn in seen)) { seen[fn] = insn; order[++n] = fn }
      }
    }
    END {
      for (i = 1; i <= n && i <= 20; ++i) printf "  %s: %s\n", order[i], seen[order[i]]
      if (n > 20) printf "  ... %d functions in all\n", n
    }')
  rm -f "$locals"
  if [[ -n $report ]]; then
    echo "check_isa_code: $file: instructions beyond baseline x86-64 outside the kernel copies:"
    echo "$report"
    status=1
  else
    echo "check_isa_code: $file: baseline x86-64 outside the kernel copies"
  fi
done
exit $status
