#!/usr/bin/env bash
# The portable build (runtime CPU dispatch, the default) against a native one
# (-DDLT_NATIVE=ON, -march=native) on the training rows of train_vs_torch.sh,
# in one invocation, the builds taking turns. Prints a markdown table of
# samples/s (tokens/s for the GPT) and portable/native (1.00x: as fast).
#
#   scripts/bench/portable.sh [THREADS] [ROUNDS]       (default 2 threads, 2 rounds)
#   SETS="avx2 baseline" scripts/bench/portable.sh     also the portable build forced to these sets
#
# The native build is made in build-native (the dlt binary only) when it is
# missing; DLT_BIN (default build/dlt) is the portable one. PRECISIONS as in
# train_vs_torch.sh (default f32). Each entry is the mean rate of its rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}
rounds=${2:-2}
portable=${DLT_BIN:-build/dlt}
native=build-native/dlt
sets=(${SETS:-})
precisions=(${PRECISIONS:-f32})
[[ -x $portable ]] || { echo "portable.sh: no dlt binary at $portable; build it or set DLT_BIN" >&2; exit 2; }
"$portable" info | grep -q '^kernels:  .*best of baseline' ||
  { echo "portable.sh: $portable is not a portable build (dlt info: $("$portable" info | grep '^kernels:'))" >&2; exit 2; }
if [[ ! -x $native ]]; then
  echo "portable.sh: building the native dlt in build-native" >&2
  cmake -S . -B build-native -G Ninja -DCMAKE_BUILD_TYPE=Release -DDLT_NATIVE=ON -DDLT_TESTS=OFF >/dev/null
  ninja -C build-native -j"$(nproc)" dlt_cli >/dev/null
fi
for f in data/fashion-mnist.h5 data/kjv.h5; do
  [[ -f $f ]] || { echo "portable.sh: $f is missing; import it first (README.md)" >&2; exit 2; }
done
export OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=${OMP_WAIT_POLICY-PASSIVE}
[[ -n $OMP_WAIT_POLICY ]] || unset OMP_WAIT_POLICY
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.jsonl

# run SIDE BINARY SET ROW PRECISION CONFIG STEPS LOG_EVERY [--set ...]: one run, its steady rate.
run() {
  local side=$1 bin=$2 set=$3 row=$4 precision=$5 config=$6 steps=$7 log_every=$8
  shift 8
  local dir=$tmp/$side-$row-$precision-$RANDOM
  echo "portable: $side $row $precision" >&2
  DLT_CPU_ISA=$set "$bin" train "$config" --run-dir "$dir" \
    --set data.val=null --set 'schedule={name: constant}' --set checkpoint.every=0 --set checkpoint.best=null \
    --set "train={steps: $steps, log_every: $log_every, threads: $threads, precision: $precision}" "$@" \
    >"$dir.log" 2>&1 || { cat "$dir.log" >&2; exit 1; }
  python3 - "$dir/metrics.jsonl" "$side" "$row" "$precision" >>"$results" <<'PY'
import json, sys
rates = [r["samples_per_s"] for r in map(json.loads, open(sys.argv[1])) if r["split"] == "train"][1:]
print(json.dumps({"side": sys.argv[2], "row": sys.argv[3], "precision": sys.argv[4],
                  "samples_per_s": len(rates) / sum(1 / r for r in rates)}))
PY
}

source scripts/bench/train_rows.sh
row() {  # row SIDE BINARY SET ROW PRECISION
  train_row "$4"
  run "$@" "$row_config" "$row_steps" "$row_log_every" "${row_sets[@]}"
}
for ((k = 0; k < rounds; ++k)); do
  for p in "${precisions[@]}"; do
    for r in mlp cnn gpt; do
      # Alternate which build goes first, so drift in the machine's speed evens out.
      if ((k % 2 == 0)); then row native "$native" "" "$r" "$p"; row portable "$portable" "" "$r" "$p"
      else row portable "$portable" "" "$r" "$p"; row native "$native" "" "$r" "$p"; fi
      for s in "${sets[@]}"; do row "$s" "$portable" "$s" "$r" "$p"; done
    done
  done
done

python3 - "$results" "$threads" "$rounds" "$("$portable" info | sed -n 's/^kernels:  \([a-z0-9_]*\).*/\1/p')" "${sets[@]}" <<'PY'
import json, sys
from collections import defaultdict
rates = defaultdict(list)
for r in map(json.loads, open(sys.argv[1])):
    rates[(r["row"], r["precision"], r["side"])].append(r["samples_per_s"])
threads, rounds, best, sets = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
names = {"mlp": "MLP 784-512-512-10, SGD", "cnn": "CNN (fashion_cnn.yaml), AdamW", "gpt": "char-GPT (kjv_gpt.yaml), AdamW"}
print(f"threads: {threads}, rounds: {rounds}, portable build's set here: {best}\n")
head = "| workload | precision | unit | native | portable | portable/native |" + "".join(f" {s} | {s}/native |" for s in sets)
print(head)
print("|" + "---|" * (head.count("|") - 1))
mean = lambda v: sum(v) / len(v)
for (row, precision) in dict.fromkeys((k[0], k[1]) for k in rates):
    scale = 128 if row == "gpt" else 1  # tokens per GPT sample (block_size)
    n = mean(rates[(row, precision, "native")]) * scale
    p = mean(rates[(row, precision, "portable")]) * scale
    line = f"| {names[row]} | {precision} | {'tokens/s' if row == 'gpt' else 'samples/s'} | {n:,.0f} | {p:,.0f} | {p / n:.2f}x |"
    for s in sets:
        v = mean(rates[(row, precision, s)]) * scale
        line += f" {v:,.0f} | {v / n:.2f}x |"
    print(line)
PY
