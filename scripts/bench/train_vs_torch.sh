#!/usr/bin/env bash
# Training throughput: `dlt train` and each torch peer (scripts/bench/peers.sh:
# the current torch and Debian's 1.13; scripts/bench/train_torch.py) on the
# same models, batches and optimisers, one after the other in one run on this
# machine with the same thread count. Prints a markdown table: samples/s
# (tokens/s for the GPT), peak RSS, and dlt/torch per peer (> 1: dlt faster).
#
#   scripts/bench/train_vs_torch.sh [THREADS] [ROW...]   (default 2; rows mlp cnn gpt lstm, default all)
#   PRECISIONS="f32 bf16" scripts/bench/train_vs_torch.sh
#   REPEATS=3 scripts/bench/train_vs_torch.sh 2 mlp        (each row's runs 3 times)
#
# PRECISIONS (default f32): each row in each; bf16 is dlt's train.precision
# bf16 against torch.autocast("cpu", bfloat16) around the same forward pass
# and loss, and a second table gives each side's bf16/f32 speed and memory.
# TORCH_PY: one python to run torch with instead of the peers (peers.sh).
# REPEATS (default 1): each row's dlt run and peer runs, one after the other,
# that many times in a row; the tables give the median of each value and the
# range of each dlt/torch ratio over the repeats (the machine's speed drifts,
# and runs one after the other share most of its drift).
#
# Rows: the Fashion-MNIST MLP 784-512-512-10 (SGD, momentum 0.9, lr 0.01),
# the CNN of configs/fashion_cnn.yaml (AdamW, dropout 0.25) and the char-GPT
# of configs/kjv_gpt.yaml (AdamW, grad_clip 1.0), the char-LSTM of
# configs/kjv_lstm.yaml (Adam, grad_clip 1.0, no dropout between its layers);
# all at a constant lr.
# Both sides leave out start-up and data set-up: dlt's rate is read from
# metrics.jsonl windows after the first (the warm-up), torch times a fixed
# number of steps after a warm-up. Differences kept on purpose: dlt's loader
# threads (data.workers: 2) feed it from the file while torch indexes tensors
# already in memory; dlt computes the gradient norm every step. Removed to do
# the same work: augmentation (the CNN), dropout (the GPT: the torch twin in
# tests/nn/torch_nn2_models.py has none), evaluation and checkpoints.
#
# Environment: DLT_BIN (default build/dlt), OMP_WAIT_POLICY for both sides
# (default PASSIVE; set but empty: libgomp's default, spin then sleep). On a
# shared, loaded machine spinning threads can wait out whole time slices at
# every parallel region: torch's MLP ran 17x slower than with PASSIVE.
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-2}
shift $(( $# > 0 ? 1 : 0 ))
rows=("${@:-mlp cnn gpt lstm}")
rows=(${rows[*]})
for r in "${rows[@]}"; do
  [[ $r == mlp || $r == cnn || $r == gpt || $r == lstm ]] || { echo "train_vs_torch.sh: unknown row '$r' (mlp, cnn, gpt, lstm)" >&2; exit 2; }
done
want() { [[ " ${rows[*]} " == *" $1 "* ]]; }
dlt=${DLT_BIN:-build/dlt}
source scripts/bench/peers.sh
precisions=(${PRECISIONS:-f32})
for p in "${precisions[@]}"; do
  [[ $p == f32 || $p == bf16 ]] || { echo "train_vs_torch.sh: unknown precision '$p' (f32, bf16)" >&2; exit 2; }
done
export OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=${OMP_WAIT_POLICY-PASSIVE}
[[ -n $OMP_WAIT_POLICY ]] || unset OMP_WAIT_POLICY  # set but empty: libgomp's default
repeats=${REPEATS:-1}
[[ $repeats =~ ^[1-9][0-9]*$ ]] || { echo "train_vs_torch.sh: REPEATS must be a positive integer, got '$repeats'" >&2; exit 2; }
[[ -x $dlt ]] || { echo "train_vs_torch.sh: no dlt binary at $dlt; build it or set DLT_BIN" >&2; exit 2; }
for f in data/fashion-mnist.h5 data/kjv.h5; do
  [[ -f $f ]] || { echo "train_vs_torch.sh: $f is missing; import it first (README.md)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.jsonl

# run_dlt ROW PRECISION UNIT CONFIG STEPS LOG_EVERY [--set ...]: one `dlt train`;
# appends the steady rate (windows after the first) and the peak RSS as a JSON line.
run_dlt() {
  local row=$1 precision=$2 unit=$3 config=$4 steps=$5 log_every=$6
  shift 6
  echo "train_vs_torch: dlt $row $precision" >&2
  local run=$tmp/$row-$precision
  rm -rf "$run"  # a repeat's fresh run
  /usr/bin/time -v -o "$tmp/time.txt" "$dlt" train "$config" --run-dir "$run" \
    --set data.val=null --set 'schedule={name: constant}' --set checkpoint.every=0 --set checkpoint.best=null \
    --set "train={steps: $steps, log_every: $log_every, threads: $threads, precision: $precision}" "$@" \
    >"$run.log" 2>&1 || { cat "$run.log" >&2; exit 1; }
  python3 - "$run/metrics.jsonl" "$tmp/time.txt" "$row" "$unit" "$precision" "$rep" >>"$results" <<'PY'
import json, re, sys
rates = [r["samples_per_s"] for r in map(json.loads, open(sys.argv[1])) if r["split"] == "train"][1:]
# Equal windows: the rate over all of them is the harmonic mean.
rate = len(rates) / sum(1 / r for r in rates)
kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1))
print(json.dumps({"row": sys.argv[3], "side": "dlt", "unit": sys.argv[4], "precision": sys.argv[5],
                  "rep": int(sys.argv[6]), "samples_per_s": rate, "peak_rss_mib": kib / 1024}))
PY
}

# run_torch ROW PRECISION UNIT MODEL STEPS WARMUP: each peer in turn.
run_torch() {
  local i
  for i in "${!peer_pythons[@]}"; do
    echo "train_vs_torch: $(peer_label "$i") $1 $2" >&2
    "${peer_pythons[$i]}" scripts/bench/train_torch.py "$4" --threads "$threads" --steps "$5" --warmup "$6" --precision "$2" |
      python3 -c "import json, sys; r = json.load(sys.stdin); r.update(row='$1', side='peer$i', unit='$3', precision='$2', rep=$rep); print(json.dumps(r))" \
        >>"$results"
  done
}

source scripts/bench/train_rows.sh
# run_row ROW PRECISION UNIT TORCH_STEPS TORCH_WARMUP: dlt's run of the row, then
# torch's, REPEATS times ($rep: which).
run_row() {
  train_row "$1"
  for ((rep = 0; rep < repeats; ++rep)); do
    run_dlt "$1" "$2" "$3" "$row_config" "$row_steps" "$row_log_every" "${row_sets[@]}"
    run_torch "$1" "$2" "$3" "$1" "$4" "$5"
  done
}
for p in "${precisions[@]}"; do
  if want mlp; then run_row mlp "$p" samples/s 300 30; fi
  if want cnn; then run_row cnn "$p" samples/s 100 10; fi
  if want gpt; then run_row gpt "$p" tokens/s 40 5; fi
  if want lstm; then run_row lstm "$p" tokens/s 30 5; fi
done

labels=()
for i in "${!peer_pythons[@]}"; do labels+=("$(peer_label "$i")"); done
python3 - "$results" "$threads" "${OMP_WAIT_POLICY:-}" "${labels[@]}" <<'PY'
import json, sys
sys.path.insert(0, "scripts/bench")
from repeats import median, note, ratio_cell
labels = sys.argv[4:]
peers = [f"peer{i}" for i in range(len(labels))]
rows = {}  # (row, precision) -> one {side: record} per repeat
for r in map(json.loads, open(sys.argv[1])):
    reps = rows.setdefault((r["row"], r["precision"]), [])
    while len(reps) <= r["rep"]:
        reps.append({})
    reps[r["rep"]][r["side"]] = r
names = {"mlp": "MLP 784-512-512-10, SGD", "cnn": "CNN (fashion_cnn.yaml), AdamW", "gpt": "char-GPT (kjv_gpt.yaml), AdamW",
         "lstm": "char-LSTM (kjv_lstm.yaml), Adam"}
print(f"threads: {sys.argv[2]}, OMP_WAIT_POLICY={sys.argv[3] or '(unset)'}")
print(note(len(next(iter(rows.values())))))
def value(r):
    return r["samples_per_s"] * (128 if r["unit"] == "tokens/s" else 1)  # tokens per GPT/LSTM sample (block_size)
print("| workload | precision | unit | dlt | " + " | ".join(f"{l} | dlt/{l}" for l in labels) +
      " | dlt peak RSS | " + " | ".join(f"{l} peak RSS" for l in labels) + " |")
print("|---|---|---|---|" + "---|---|" * len(labels) + "---|" + "---|" * len(labels))
for (row, precision), reps in rows.items():
    cells = []
    for p in peers:
        cells += [f"{median(value(s[p]) for s in reps):,.0f}", ratio_cell(value(s['dlt']) / value(s[p]) for s in reps)]
    rss = [f"{max(s[p]['peak_rss_mib'] for s in reps):.0f} MiB" for p in ["dlt"] + peers]
    print(f"| {names[row]} | {precision} | {reps[0]['dlt']['unit']} | {median(value(s['dlt']) for s in reps):,.0f} | " +
          " | ".join(cells) + " | " + " | ".join(rss) + " |")
pairs = [row for (row, p) in rows if p == "f32" and (row, "bf16") in rows]
if pairs:
    print("\n| workload | dlt bf16/f32 speed | dlt bf16/f32 peak RSS | " +
          " | ".join(f"{l} bf16/f32 speed | {l} bf16/f32 peak RSS" for l in labels) + " |")
    print("|---|---|---|" + "---|---|" * len(labels))
    for row in pairs:
        f, b = rows[(row, "f32")], rows[(row, "bf16")]
        cells = []
        for p in ["dlt"] + peers:
            speed = median(value(bs[p]) for bs in b) / median(value(fs[p]) for fs in f)
            rss = max(bs[p]["peak_rss_mib"] for bs in b) / max(fs[p]["peak_rss_mib"] for fs in f)
            cells += [f"{speed:.2f}x", f"{rss:.2f}x"]
        print(f"| {names[row]} | " + " | ".join(cells) + " |")
PY
