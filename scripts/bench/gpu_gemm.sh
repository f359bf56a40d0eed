#!/usr/bin/env bash
# GPU matrix products: dlt's matmul (scripts/bench/gpu_gemm.cpp) and
# torch.matmul (scripts/bench/gpu_gemm_torch.py) on the same GPU, one after
# the other: square products in f32 (TF32 off), TF32, bf16 and fp16, as
# TFLOP/s, dlt/torch and dlt's share of the GPU's dense peak for the
# precision. Prints a markdown table.
#
#   scripts/bench/gpu_gemm.sh [N...]        (default 4096 8192); on the GPU
#                                           machine after `source .bundle/env.sh`
#
# Environment: GEMM_BIN (default: bench_gpu_gemm on PATH, else
# build-cuda/bench_gpu_gemm), PYTHON (default python3: the interpreter with
# the GPU build of torch).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${GEMM_BIN:-$(command -v bench_gpu_gemm || echo build-cuda/bench_gpu_gemm)}
python=${PYTHON:-python3}
[[ -x $bin ]] || { echo "gpu_gemm.sh: no bench_gpu_gemm at $bin; build with -DDLT_CUDA=ON or set GEMM_BIN" >&2; exit 2; }
if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_gemm.sh: no NVIDIA GPU on this machine (nvidia-smi finds none); nothing to benchmark"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "gpu_gemm.sh: dlt" >&2
"$bin" "$@" >"$tmp/dlt.jsonl"
echo "gpu_gemm.sh: torch" >&2
"$python" scripts/bench/gpu_gemm_torch.py "$@" >"$tmp/torch.jsonl"
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
torch_version=$("$python" -c 'import torch; print(torch.__version__)')
"$python" - "$tmp" "$gpu" "$torch_version" <<'PY'
import json, sys
tmp, gpu, version = sys.argv[1:]
key = lambda r: (r["precision"], r["n"])
dlt = {key(r): r for r in map(json.loads, open(f"{tmp}/dlt.jsonl"))}
torch = {key(r): r for r in map(json.loads, open(f"{tmp}/torch.jsonl"))}
print(f"GPU: {gpu}; torch {version}\n")
print("| product | precision | dlt TFLOP/s | torch TFLOP/s | dlt/torch | dlt share of dense peak |")
print("|---|---|---|---|---|---|")
for k, d in dlt.items():
    t = torch.get(k)
    peak = d["peak_tflops"]
    share = f"{d['tflops'] / peak:.0%} of {peak:g}" if peak else "n/a (GPU not in dlt's table)"
    ratio = f"{d['tflops'] / t['tflops']:.2f}x" if t else "n/a"
    print(f"| {k[1]}^3 | {k[0]} | {d['tflops']:,.1f} | {t['tflops'] if t else 'n/a'} | {ratio} | {share} |")
PY
