#!/usr/bin/env bash
# Where the GPT-2-small row of scripts/bench/gpu.sh spends its time: 12 steps
# of dlt with DLT_PROFILE_OPS=shapes (every kernel timed alone, keyed by op
# and input shapes), then the same attention and linear shapes timed in
# PyTorch eager for comparison. On the GPU machine, from the repo root, after
# `source .bundle/env.sh`:
#
#   scripts/bench/gpu_profile.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
dlt=${DLT_BIN:-$(command -v dlt || echo build-cuda/dlt)}
python=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" scripts/bench/gpu_data.py "$tmp/src" >/dev/null
"$dlt" data import text "$tmp/src/text.txt" --vocab bytes --out "$tmp/text.h5" >/dev/null
DLT_PROFILE_OPS=${DLT_PROFILE_OPS:-shapes} "$dlt" train configs/kjv_gpt.yaml \
  --run-dir "$tmp/run" --set data.val=null --set 'schedule={name: constant}' \
  --set checkpoint.every=0 --set checkpoint.best=null --set train.epochs=null --set train.steps=12 \
  --set train.log_every=4 --set train.eval_every=0 --set train.device=cuda --set train.precision=tf32 \
  --set "data.file=$tmp/text.h5" --set data.block_size=1024 --set data.batch_size=8 \
  --set model.vocab_size=50257 --set model.block_size=1024 --set model.embed_dim=768 \
  --set model.heads=12 --set model.layers=12 --set model.dropout=0 --set train.grad_clip=1.0 \
  --set 'optim={name: adamw, lr: 0.0006, weight_decay: 0.1, betas: [0.9, 0.95]}' 2>&1 |
  grep -v '^step '

"$python" - <<'PY'
import torch, torch.nn.functional as F
torch.backends.cuda.matmul.allow_tf32 = True
start, end = torch.cuda.Event(True), torch.cuda.Event(True)

def time_ms(fn, reps=10):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps

q, k, v = (torch.randn(8, 12, 1024, 64, device="cuda", requires_grad=True) for _ in range(3))
def attention(backward):
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    if backward:
        y.backward(torch.ones_like(y))
print(f"torch sdpa f32 B8 H12 T1024 D64: fwd {time_ms(lambda: attention(False)):.3f} ms, "
      f"fwd+bwd {time_ms(lambda: attention(True)):.3f} ms")
for n_in, n_out in [(768, 2304), (768, 768), (768, 3072), (3072, 768), (768, 50257)]:
    x = torch.randn(8192, n_in, device="cuda", requires_grad=True)
    w = torch.randn(n_out, n_in, device="cuda", requires_grad=True)
    b = torch.randn(n_out, device="cuda", requires_grad=True)
    def linear(backward):
        y = F.linear(x, w, b)
        if backward:
            y.backward(torch.ones_like(y))
    fwd, both = time_ms(lambda: linear(False)), time_ms(lambda: linear(True))
    flop = 2 * 8192 * n_in * n_out
    print(f"torch linear [8192, {n_in}] -> {n_out}: fwd {fwd:.3f} ms ({flop / fwd / 1e9:.0f} TFLOP/s), "
          f"fwd+bwd {both:.3f} ms ({3 * flop / both / 1e9:.0f} TFLOP/s)")
PY
