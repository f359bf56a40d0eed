#!/usr/bin/env bash
# Start-up: how long from starting the process to the end of the first
# training step, for the Fashion-MNIST MLP (configs/fashion_mlp.yaml: open
# the HDF5 file, build the model, start the loader, one AdamW step), dlt
# against each torch peer (import torch and h5py, read the same file, build the same
# model, one step). The median of RUNS starts each, one after the other.
#
#   scripts/bench/startup.sh [RUNS]                     (default 5)
#   (each torch peer of scripts/bench/peers.sh; TORCH_PY=PYTHON for one)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
dlt=${DLT_BIN:-build/dlt}
source scripts/bench/peers.sh
[[ -x $dlt ]] || { echo "startup.sh: no dlt binary at $dlt; build it or set DLT_BIN" >&2; exit 2; }
[[ -f data/fashion-mnist.h5 ]] || { echo "startup.sh: data/fashion-mnist.h5 is missing (README.md)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$dlt" "$runs" "$tmp" "${peer_pythons[@]}" <<'PY'
import statistics, subprocess, sys, time
dlt, runs, tmp, peers = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]

def until_line(cmd, prefix):
    """Seconds from starting `cmd` to the first output line starting with prefix."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen, out = None, []
    for line in p.stdout:
        out.append(line)
        if seen is None and line.startswith(prefix):
            seen = time.perf_counter() - t0
    if p.wait() != 0 or seen is None:
        sys.exit(f"startup.sh: {cmd[0]} failed:\n{''.join(out[-10:])}")
    return seen

torch_first_step = r"""
import h5py, torch, torch.nn as nn
with h5py.File("data/fashion-mnist.h5", "r") as f:
    x = torch.from_numpy(f["train/images"][:128]).reshape(-1, 784).float().div_(255)
    y = torch.from_numpy(f["train/labels"][:128]).long()
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
opt = torch.optim.AdamW(model.parameters(), lr=0.001, weight_decay=0.01)
loss = nn.functional.cross_entropy(model(x), y)
opt.zero_grad(); loss.backward(); opt.step()
print("step 1", float(loss), torch.__version__, flush=True)
"""
d, t = [], {p: [] for p in peers}
for k in range(runs):
    d.append(until_line([dlt, "train", "configs/fashion_mlp.yaml", "--run-dir", f"{tmp}/run{k}",
                         "--set", "train.log_every=1", "--set", "train.epochs=null", "--set", "train.steps=150"],
                        "step 1/"))
    for p in peers:
        t[p].append(until_line([p, "-c", torch_first_step], "step 1"))
md = statistics.median(d)
versions = [subprocess.run([p, "-c", "import torch; print(torch.__version__)"], capture_output=True,
                           text=True).stdout.strip().splitlines()[-1] for p in peers]
print("| workload | dlt | " + " | ".join(f"torch {v} | torch {v}/dlt" for v in versions) + " |")
print("|---|---|" + "---|---|" * len(peers))
cells = []
for p in peers:
    mt = statistics.median(t[p])
    cells += [f"{mt:.3f} s", f"{mt / md:.1f}x"]
print(f"| MLP: process start to the end of the first step (median of {runs}) | {md:.3f} s | " + " | ".join(cells) + " |")
PY
