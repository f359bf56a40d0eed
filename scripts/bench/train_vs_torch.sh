#!/usr/bin/env bash
# Training throughput: `dlt train` and torch 1.13 (scripts/bench/train_torch.py)
# on the same models, batches and optimisers, one after the other in one run
# on this machine with the same thread count. Prints a markdown table:
# samples/s (tokens/s for the GPT), peak RSS, and dlt/torch (> 1: dlt faster).
#
#   scripts/bench/train_vs_torch.sh [THREADS] [ROW...]   (default 2; rows mlp cnn gpt, default all)
#
# Rows: the Fashion-MNIST MLP 784-512-512-10 (SGD, momentum 0.9, lr 0.01),
# the CNN of configs/fashion_cnn.yaml (AdamW, dropout 0.25) and the char-GPT
# of configs/kjv_gpt.yaml (AdamW, grad_clip 1.0); all at a constant lr.
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
rows=("${@:-mlp cnn gpt}")
rows=(${rows[*]})
for r in "${rows[@]}"; do
  [[ $r == mlp || $r == cnn || $r == gpt ]] || { echo "train_vs_torch.sh: unknown row '$r' (mlp, cnn, gpt)" >&2; exit 2; }
done
want() { [[ " ${rows[*]} " == *" $1 "* ]]; }
dlt=${DLT_BIN:-build/dlt}
export OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=${OMP_WAIT_POLICY-PASSIVE}
[[ -n $OMP_WAIT_POLICY ]] || unset OMP_WAIT_POLICY  # set but empty: libgomp's default
[[ -x $dlt ]] || { echo "train_vs_torch.sh: no dlt binary at $dlt; build it or set DLT_BIN" >&2; exit 2; }
for f in data/fashion-mnist.h5 data/kjv.h5; do
  [[ -f $f ]] || { echo "train_vs_torch.sh: $f is missing; import it first (README.md)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.jsonl

# run_dlt ROW UNIT CONFIG STEPS LOG_EVERY [--set ...]: one `dlt train`; appends
# the steady rate (windows after the first) and the peak RSS as a JSON line.
run_dlt() {
  local row=$1 unit=$2 config=$3 steps=$4 log_every=$5
  shift 5
  echo "train_vs_torch: dlt $row" >&2
  /usr/bin/time -v -o "$tmp/time.txt" "$dlt" train "$config" --run-dir "$tmp/$row" \
    --set data.val=null --set 'schedule={name: constant}' --set checkpoint.every=0 --set checkpoint.best=null \
    --set "train={steps: $steps, log_every: $log_every, threads: $threads}" "$@" >"$tmp/$row.log" 2>&1 || { cat "$tmp/$row.log" >&2; exit 1; }
  python3 - "$tmp/$row/metrics.jsonl" "$tmp/time.txt" "$row" "$unit" >>"$results" <<'PY'
import json, re, sys
rates = [r["samples_per_s"] for r in map(json.loads, open(sys.argv[1])) if r["split"] == "train"][1:]
# Equal windows: the rate over all of them is the harmonic mean.
rate = len(rates) / sum(1 / r for r in rates)
kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1))
print(json.dumps({"row": sys.argv[3], "side": "dlt", "unit": sys.argv[4], "samples_per_s": rate,
                  "peak_rss_mib": kib / 1024}))
PY
}

# run_torch ROW UNIT MODEL STEPS WARMUP
run_torch() {
  echo "train_vs_torch: torch $1" >&2
  /usr/bin/python3 scripts/bench/train_torch.py "$3" --threads "$threads" --steps "$4" --warmup "$5" |
    python3 -c "import json, sys; r = json.load(sys.stdin); r.update(row='$1', side='torch', unit='$2'); print(json.dumps(r))" \
      >>"$results"
}

mlp='[{type: Flatten}, {type: Linear, out: 512}, {type: ReLU}, {type: Linear, out: 512}, {type: ReLU}, {type: Linear, out: 10}]'
# Fashion-MNIST has 468 batches of 128 an epoch: dlt's runs stay in the first.
if want mlp; then
  run_dlt mlp samples/s configs/fashion_mlp.yaml 400 50 --set "model=$mlp" --set 'optim={name: sgd, lr: 0.01, momentum: 0.9}'
  run_torch mlp samples/s mlp 300 30
fi
if want cnn; then
  run_dlt cnn samples/s configs/fashion_cnn.yaml 200 20 --set 'data.augment={crop_padding: 0, hflip: false}'
  run_torch cnn samples/s cnn 100 10
fi
if want gpt; then
  run_dlt gpt tokens/s configs/kjv_gpt.yaml 60 10 --set model.dropout=0 --set train.grad_clip=1.0
  run_torch gpt tokens/s gpt 40 5
fi

python3 - "$results" "$threads" "${OMP_WAIT_POLICY:-}" <<'PY'
import json, sys
rows = {}
for r in map(json.loads, open(sys.argv[1])):
    rows.setdefault(r["row"], {})[r["side"]] = r
names = {"mlp": "MLP 784-512-512-10, SGD", "cnn": "CNN (fashion_cnn.yaml), AdamW", "gpt": "char-GPT (kjv_gpt.yaml), AdamW"}
print(f"threads: {sys.argv[2]}, OMP_WAIT_POLICY={sys.argv[3] or '(unset)'}\n")
print("| workload | unit | dlt | torch 1.13 | dlt/torch | dlt peak RSS | torch peak RSS |")
print("|---|---|---|---|---|---|---|")
for row, s in rows.items():
    d, t = s["dlt"], s["torch"]
    per = 128 if d["unit"] == "tokens/s" else 1  # tokens per GPT sample (block_size)
    dv, tv = d["samples_per_s"] * per, t["samples_per_s"] * per
    print(f"| {names[row]} | {d['unit']} | {dv:,.0f} | {tv:,.0f} | {dv / tv:.2f}x | "
          f"{d['peak_rss_mib']:.0f} MiB | {t['peak_rss_mib']:.0f} MiB |")
PY
