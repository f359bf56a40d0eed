#!/usr/bin/env bash
# GPU training throughput: `dlt train` on cuda and PyTorch eager
# (scripts/bench/gpu_torch.py) on the same GPU, one after the other, same
# models, batch sizes and optimisers, by default f32 with TF32 allowed on both
# sides (train.precision=tf32; torch.backends.*.allow_tf32; PRECISION below
# for bf16 and fp16). Prints a markdown table:
# samples/s (tokens/s for GPT-2), dlt/torch (> 1: dlt faster), model FLOPs
# utilisation against the GPU's dense peak for the precision, peak GPU memory.
#
#   scripts/bench/gpu.sh            from the repo root; on the GPU machine after
#                                   `source .bundle/env.sh` (dlt from .bundle/bin)
#
# Rows: the MLP 784-512-512-10 (SGD, momentum 0.9, batch 128), the CNN of
# configs/fashion_cnn.yaml (AdamW, dropout 0.25, batch 128) and a GPT-2-small
# shape (12 layers, 12 heads, width 768, block 1024, vocab 50257, batch 8,
# AdamW, grad_clip 1.0, no dropout). Torch's attention is
# F.scaled_dot_product_attention(is_causal=True), as a user writes it.
# Data is synthetic (scripts/bench/gpu_data.py, imported with `dlt data
# import`): the GPU machine has no data sets, and rates do not depend on values.
# Both sides leave out start-up: dlt's rate is read from metrics.jsonl windows
# after the first (the warm-up), torch times a fixed number of steps after a
# warm-up. Both read the loss back every step. Differences kept on purpose:
# dlt's loader feeds it from the file (4 workers; pinned host batches copied to
# the GPU) while torch cycles batches already on the GPU; dlt computes the
# gradient norm every step. Peak memory: torch.cuda.max_memory_allocated against dlt's
# device allocator peak (`dlt train` prints it last), both over the whole run.
#
# Environment: DLT_BIN (default: dlt on PATH, else build-cuda/dlt), PYTHON
# (default python3: the interpreter with the GPU build of torch), PRECISION
# (default tf32; bf16 or fp16: dlt's train.precision against torch.autocast,
# fp16 with dynamic loss scaling on both sides, GradScaler for torch).
set -euo pipefail
cd "$(dirname "$0")/../.."
dlt=${DLT_BIN:-$(command -v dlt || echo build-cuda/dlt)}
python=${PYTHON:-python3}
precision=${PRECISION:-tf32}
[[ $precision == tf32 || $precision == bf16 || $precision == fp16 ]] ||
  { echo "gpu.sh: PRECISION must be tf32, bf16 or fp16, got '$precision'" >&2; exit 2; }
[[ -x $dlt ]] || { echo "gpu.sh: no dlt binary at $dlt; build with -DDLT_CUDA=ON or set DLT_BIN" >&2; exit 2; }

# Say plainly why nothing runs on a machine without a usable GPU or build.
if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu.sh: no NVIDIA GPU on this machine (nvidia-smi finds none); nothing to benchmark"
  exit 0
fi
info=$("$dlt" info 2>&1 || true)  # read whole: grep -q closing the pipe early would fail it under pipefail
if ! grep -q 'cuda=on' <<<"$info"; then
  echo "gpu.sh: $dlt is built without CUDA (dlt info: cuda=off); build with -DDLT_CUDA=ON"
  exit 0
fi
if ! "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu.sh: $python has no torch with CUDA; the torch side cannot run" >&2
  exit 2
fi
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.jsonl
echo "gpu.sh: writing synthetic data" >&2
"$python" scripts/bench/gpu_data.py "$tmp/src"
"$dlt" data import fashion-mnist --src "$tmp/src" --out "$tmp/fashion.h5" >/dev/null
"$dlt" data import text "$tmp/src/text.txt" --vocab bytes --out "$tmp/text.h5" >/dev/null

# run_dlt ROW CONFIG STEPS LOG_EVERY [--set ...]: one `dlt train` on cuda;
# appends the steady rate (windows after the first) and the peak as JSON.
run_dlt() {
  local row=$1 config=$2 steps=$3 log_every=$4
  shift 4
  echo "gpu.sh: dlt $row" >&2
  "$dlt" train "$config" --run-dir "$tmp/$row" \
    --set data.val=null --set 'schedule={name: constant}' --set checkpoint.every=0 --set checkpoint.best=null \
    --set train.epochs=null --set train.steps="$steps" --set train.log_every="$log_every" \
    --set train.eval_every=0 --set train.device=cuda --set train.precision="$precision" "$@" >"$tmp/$row.log" 2>&1 || { cat "$tmp/$row.log" >&2; exit 1; }
  "$python" - "$tmp/$row/metrics.jsonl" "$tmp/$row.log" "$row" >>"$results" <<'PY'
import json, re, sys
windows = [r for r in map(json.loads, open(sys.argv[1])) if r["split"] == "train"][1:]
rate = len(windows) / sum(1 / r["samples_per_s"] for r in windows)  # equal windows: the harmonic mean
# Model FLOPs over time against the GPU's dense peak for the precision (the
# GPU table of lib/dlt/train/peak_flops.h); absent for a GPU not in it.
mfus = [r["mfu"] for r in windows if "mfu" in r]
mfu = len(mfus) / sum(1 / m for m in mfus) if mfus and len(mfus) == len(windows) else None
m = re.search(r"device memory: peak ([\d.]+) MiB", open(sys.argv[2]).read())
print(json.dumps({"row": sys.argv[3], "side": "dlt", "samples_per_s": rate, "mfu": mfu,
                  "peak_mib": float(m.group(1)) if m else None}))
PY
}

# run_torch ROW MODEL STEPS WARMUP
run_torch() {
  echo "gpu.sh: torch $1" >&2
  "$python" scripts/bench/gpu_torch.py "$2" --steps "$3" --warmup "$4" --precision "$precision" |
    "$python" -c "import json, sys; r = json.load(sys.stdin); r.update(row='$1', side='torch'); print(json.dumps(r))" \
      >>"$results"
}

# The configs' 2 loader workers are sized for 2-core CPU runs; the GPU machine has 16 cores.
fashion=(--set "data.file=$tmp/fashion.h5" --set data.workers=4)
mlp='[{type: Flatten}, {type: Linear, out: 512}, {type: ReLU}, {type: Linear, out: 512}, {type: ReLU}, {type: Linear, out: 10}]'
run_dlt mlp configs/fashion_mlp.yaml 10000 1000 "${fashion[@]}" --set "model=$mlp" \
  --set 'optim={name: sgd, lr: 0.01, momentum: 0.9}'
run_torch mlp mlp 5000 200
run_dlt cnn configs/fashion_cnn.yaml 5000 500 "${fashion[@]}" --set 'data.augment={crop_padding: 0, hflip: false}'
run_torch cnn cnn 2000 100
run_dlt gpt2 configs/kjv_gpt.yaml 60 10 --set "data.file=$tmp/text.h5" --set data.block_size=1024 \
  --set data.batch_size=8 --set model.vocab_size=50257 --set model.block_size=1024 --set model.embed_dim=768 \
  --set model.heads=12 --set model.layers=12 --set model.dropout=0 --set train.grad_clip=1.0 \
  --set 'optim={name: adamw, lr: 0.0006, weight_decay: 0.1, betas: [0.9, 0.95]}'
run_torch gpt2 gpt2 40 10

torch_version=$("$python" -c 'import torch; print(torch.__version__)')
"$python" - "$results" "$gpu" "$torch_version" "$precision" <<'PY'
import json, sys
rows = {}
for r in map(json.loads, open(sys.argv[1])):
    rows.setdefault(r["row"], {})[r["side"]] = r
names = {"mlp": ("MLP 784-512-512-10, SGD, batch 128", "samples/s", 1),
         "cnn": ("CNN (fashion_cnn.yaml), AdamW, batch 128", "samples/s", 1),
         "gpt2": ("GPT-2 small shape, AdamW, batch 8 x 1024", "tokens/s", 1024)}
how = {"tf32": "f32 with TF32 on both sides", "bf16": "bf16 autocast on both sides",
       "fp16": "fp16 autocast with loss scaling on both sides"}[sys.argv[4]]
print(f"GPU: {sys.argv[2]}; torch {sys.argv[3]} eager; {how}\n")
# MFU: dlt's model FLOPs a sample (the same model on both sides) over time,
# against the GPU's dense peak for the precision; torch's from its rate.
print("| workload | unit | dlt | torch | dlt/torch | dlt MFU | torch MFU | dlt peak GPU memory | torch peak GPU memory |")
print("|---|---|---|---|---|---|---|---|---|")
mib = lambda v: "n/a" if v is None else f"{v:,.0f} MiB"
for row, (name, unit, per) in names.items():
    d, t = rows[row]["dlt"], rows[row]["torch"]
    dv, tv = d["samples_per_s"] * per, t["samples_per_s"] * per
    mfu = d.get("mfu")
    mfus = f"{mfu:.1%} | {mfu * tv / dv:.1%}" if mfu is not None else "n/a | n/a"
    print(f"| {name} | {unit} | {dv:,.0f} | {tv:,.0f} | {dv / tv:.2f}x | {mfus} | {mib(d['peak_mib'])} | {mib(t['peak_mib'])} |")
PY
