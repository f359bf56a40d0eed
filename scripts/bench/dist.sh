#!/usr/bin/env bash
# Data-parallel training on one machine: `dlt train` on 1 rank and on 2 MPI
# ranks, and PyTorch DDP (gloo) on 1 and 2 processes
# (scripts/bench/dist_torch.py, under torch 1.13 and a torch 2), every rank
# on one thread, the same global batch, one after the other in one run.
# Prints a markdown table of samples/s (tokens/s for the GPT) with the scaling
# 2 ranks / 1 rank and dlt / torch at 2 ranks (> 1: dlt faster), then the
# all-reduce bandwidth between 2 processes (MPI through mpi4py, gloo through
# each torch) for 1 and 25 MiB.
#
#   scripts/bench/dist.sh [STEPS]   (default 40: the GPT's steps per run; the MLP runs 10x as many)
#
# Rows: the MLP of scripts/bench/train_vs_torch.sh (configs/fashion_mlp.yaml
# as 784-512-512-10, SGD, global batch 128; and the same at global batch
# 1024, where the per-step work that every rank repeats, the optimizer step
# and the all-reduce, weighs less against the GEMMs) and the char-GPT of
# configs/kjv_gpt.yaml (AdamW, grad_clip 1.0, no dropout, global batch 32);
# torch's models are train_torch.py's. dlt's data.batch_size is the global
# batch: 2 ranks take half each, as do torch's 2 processes. Columns:
#   dlt 1 rank       `dlt train`, train.threads=1
#   dlt 2 ranks      `mpirun -n 2 dlt train`, train.threads=1: gradients
#                    all-reduced in buckets during the backward pass (default)
#   overlap off      the same with train.distributed.overlap=false: every
#                    bucket after the backward pass
#   torch 1p, 2p     1 process: the plain model; 2: DDP over gloo on loopback
#                    (25 MiB buckets, overlapped); torch.set_num_threads(1)
# Each run takes STEPS steps (MLP 10x STEPS) and is timed over the second
# half: dlt's rate is metrics.jsonl's train windows after the first
# (train.log_every = half the steps), torch times STEPS/2 steps after STEPS/2
# untimed ones. Start-up, data set-up, evaluation and checkpoints are left
# out on both sides. As in train_vs_torch.sh, dlt's loader threads
# (data.workers: 2 per rank) read batches from the HDF5 file while torch
# indexes tensors already in memory, and dlt computes the gradient norm every
# step. Load from other processes moves every number: the load average is
# printed before and after.
#
# Environment: DLT_BIN (default build/dlt); TORCH2_PY, a python with torch 2
# (default ../shared/peers/torch2.sh, which creates its venv on first use:
# ~1.5 GB from PyPI); OMP_WAIT_POLICY for every process (default PASSIVE; set
# but empty: libgomp's default). The MPI bandwidth row needs mpi4py for
# /usr/bin/python3 (Debian: python3-mpi4py). A side that is missing or fails
# prints n/a and the rest goes on.
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-40}
[[ $steps =~ ^[0-9]+$ ]] && ((steps >= 4 && steps % 2 == 0)) || { echo "dist.sh: STEPS must be an even number >= 4" >&2; exit 2; }
mlp_steps=$((10 * steps))
dlt=${DLT_BIN:-build/dlt}
torch1=/usr/bin/python3
torch2=${TORCH2_PY:-../shared/peers/torch2.sh}
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=${OMP_WAIT_POLICY-PASSIVE}
[[ -n $OMP_WAIT_POLICY ]] || unset OMP_WAIT_POLICY  # set but empty: libgomp's default
export GLOO_SOCKET_IFNAME=lo
for f in data/fashion-mnist.h5 data/kjv.h5; do
  [[ -f $f ]] || { echo "dist.sh: $f is missing; import it first (README.md)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.jsonl
: >"$results"
note() { echo "dist: $*" >&2; }
mpirun=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# What can run: dlt (1 rank), dlt on 2 ranks (a binary that knows
# train.distributed and an mpirun), each torch with gloo, mpi4py.
dlt1=0 dlt2=0
if [[ -x $dlt ]]; then
  dlt1=1
  if ! command -v mpirun >/dev/null; then
    note "no mpirun: dlt 2 ranks n/a"
  elif ! "$dlt" validate configs/fashion_mlp.yaml --set train.distributed.overlap=false >/dev/null 2>&1; then
    note "$dlt does not know train.distributed: dlt 2 ranks n/a"
  elif "$dlt" info 2>/dev/null | grep -qw 'mpi=off'; then
    note "$dlt was built without MPI (-DDLT_MPI=OFF): dlt 2 ranks n/a"
  else
    dlt2=1
  fi
else
  note "no dlt binary at $dlt (build it or set DLT_BIN): dlt n/a"
fi
# torch_version PY: its torch version if it has gloo and h5py, else nothing.
torch_version() {
  "$1" -c 'import h5py, torch, torch.distributed as d; assert d.is_gloo_available(); print(torch.__version__.split("+")[0])' 2>/dev/null || true
}
v1=$(torch_version "$torch1")
[[ -n $v1 ]] || note "no torch with gloo and h5py in $torch1: torch 1.13 n/a"
[[ -x $torch2 ]] || command -v "$torch2" >/dev/null || torch2=
[[ -n ${TORCH2_PY:-} || -z $torch2 ]] || note "torch 2 from $torch2 (its first use creates a venv: ~1 min)"
[[ -z $torch2 ]] || v2=$(torch_version "$torch2")
v2=${v2:-}
[[ -n $v2 ]] || note "no torch 2 with gloo and h5py (TORCH2_PY=${TORCH2_PY:-}): torch 2 n/a"
mpi4py=0
if command -v mpirun >/dev/null && /usr/bin/python3 -c 'import mpi4py, numpy' 2>/dev/null; then mpi4py=1; else
  note "no mpi4py for /usr/bin/python3 (Debian: python3-mpi4py): MPI bandwidth n/a"
fi

# record ROW COL SAMPLES_PER_S: one result line.
record() { echo "{\"row\": \"$1\", \"col\": \"$2\", \"samples_per_s\": $3}" >>"$results"; }

# run_dlt ROW COL RANKS CONFIG STEPS [--set ...]: one `dlt train`; records the
# rate over the train windows after the first (the warm-up).
run_dlt() {
  local row=$1 col=$2 ranks=$3 config=$4 n=$5 launch=()
  shift 5
  ((ranks == 1)) || launch=("${mpirun[@]}" -n "$ranks")
  note "$row: dlt, $ranks rank(s)$([[ $col != *nooverlap ]] || echo ', overlap off')"
  if ! "${launch[@]}" "$dlt" train "$config" --run-dir "$tmp/$row-$col" \
      --set data.val=null --set 'schedule={name: constant}' --set checkpoint.every=0 --set checkpoint.best=null \
      --set "train={steps: $n, log_every: $((n / 2)), threads: 1}" "$@" >"$tmp/$row-$col.log" 2>&1; then
    tail -n 20 "$tmp/$row-$col.log" >&2
    note "$row: dlt, $ranks rank(s) failed: n/a"
    return 0
  fi
  local rate
  rate=$(python3 - "$tmp/$row-$col/metrics.jsonl" <<'PY'
import json, sys
rates = [r["samples_per_s"] for r in map(json.loads, open(sys.argv[1])) if r["split"] == "train"]
rates = rates[1:] or rates  # the first window holds the start-up
print(len(rates) / sum(1 / r for r in rates))  # equal windows: the harmonic mean
PY
  ) && record "$row" "$col" "$rate" || note "$row: dlt, $ranks rank(s): no train records in metrics.jsonl: n/a"
}

# run_torch ROW COL PY VERSION PROCS STEPS
run_torch() {
  local row=$1 col=$2 py=$3 version=$4 procs=$5 n=$6 out
  note "$row: torch $version, $procs process(es)"
  if out=$("$py" scripts/bench/dist_torch.py train "$row" --procs "$procs" --threads 1 --steps $((n / 2)) \
      --warmup $((n / 2)) 2>"$tmp/$row-$col.log"); then
    record "$row" "$col" "$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["samples_per_s"])' "$out")"
  else
    tail -n 20 "$tmp/$row-$col.log" >&2
    note "$row: torch $version, $procs process(es) failed: n/a"
  fi
}

mlp='[{type: Flatten}, {type: Linear, out: 512}, {type: ReLU}, {type: Linear, out: 512}, {type: ReLU}, {type: Linear, out: 10}]'
mlp_dlt=(configs/fashion_mlp.yaml "$mlp_steps" --set "model=$mlp" --set 'optim={name: sgd, lr: 0.01, momentum: 0.9}')
mlp1024_dlt=(configs/fashion_mlp.yaml "$steps" --set "model=$mlp" --set 'optim={name: sgd, lr: 0.01, momentum: 0.9}'
  --set data.batch_size=1024)
gpt_dlt=(configs/kjv_gpt.yaml "$steps" --set model.dropout=0 --set train.grad_clip=1.0)
for row in mlp mlp1024 gpt; do
  case $row in
    mlp) args=("${mlp_dlt[@]}") n=$mlp_steps ;;
    mlp1024) args=("${mlp1024_dlt[@]}") n=$steps ;;
    gpt) args=("${gpt_dlt[@]}") n=$steps ;;
  esac
  if ((dlt1)); then run_dlt $row dlt1 1 "${args[@]}"; fi
  if ((dlt2)); then
    run_dlt $row dlt2 2 "${args[@]}"
    run_dlt $row dlt2_nooverlap 2 "${args[@]}" --set train.distributed.overlap=false
  fi
  for t in 1 2; do
    py=torch$t v=v$t
    [[ -n ${!v} ]] || continue
    run_torch $row t${t}_1 "${!py}" "${!v}" 1 "$n"
    run_torch $row t${t}_2 "${!py}" "${!v}" 2 "$n"
  done
done

# All-reduce bandwidth, 2 processes, in-place float32 SUM: the median call
# (each after a barrier) of at least 10 over 2 s per size.
bw_sizes=(1 25)
mpi_bw='
import json, statistics, sys, time
import numpy as np
from mpi4py import MPI
comm, out = MPI.COMM_WORLD, {}
for mib in map(float, sys.argv[1:]):
    buf = np.ones(int(mib * 2**20) // 4, dtype=np.float32)
    for _ in range(3):
        comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
    times, deadline = [], time.perf_counter() + 2.0
    while True:
        comm.Barrier()
        start = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        times.append(time.perf_counter() - start)
        if comm.bcast(len(times) >= 10 and time.perf_counter() > deadline, root=0):  # rank 0 decides for all
            break
    ms = statistics.median(times) * 1e3
    out[f"{mib:g}"] = {"ms": ms, "gb_per_s": buf.nbytes / ms / 1e6, "calls": len(times)}
if comm.rank == 0:
    print(json.dumps({"allreduce": out}))
'
bw() {  # bw NAME COMMAND...: one JSON line {"name", "allreduce": {size: {ms, gb_per_s}}}
  local name=$1 out
  shift
  note "all-reduce bandwidth: $name"
  if out=$("$@" 2>"$tmp/bw.log"); then
    python3 -c 'import json, sys; r = json.loads(sys.argv[2]); r["name"] = sys.argv[1]; print(json.dumps(r))' \
      "$name" "$out" >>"$tmp/bw.jsonl"
  else
    tail -n 20 "$tmp/bw.log" >&2
    note "all-reduce bandwidth: $name failed: n/a"
  fi
}
: >"$tmp/bw.jsonl"
if ((mpi4py)); then bw "MPI ($(mpirun --version 2>/dev/null | head -n1 | sed 's/^mpirun (\(.*\)) /\1 /'), mpi4py)" "${mpirun[@]}" -n 2 /usr/bin/python3 -c "$mpi_bw" "${bw_sizes[@]}"; fi
if [[ -n $v1 ]]; then bw "gloo (torch $v1)" "$torch1" scripts/bench/dist_torch.py allreduce --procs 2 --sizes-mib "${bw_sizes[@]}"; fi
if [[ -n $v2 ]]; then bw "gloo (torch $v2)" "$torch2" scripts/bench/dist_torch.py allreduce --procs 2 --sizes-mib "${bw_sizes[@]}"; fi

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)
flags=$(for f in avx512f avx2; do grep -qw $f /proc/cpuinfo && echo -n "$f "; done)
python3 - "$results" "$tmp/bw.jsonl" "$steps" "$mlp_steps" "$v1" "$v2" "$cpu" "${flags:-none}" "$load_before" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$(env -u OMP_NUM_THREADS nproc)" "${OMP_WAIT_POLICY:-}" "${bw_sizes[@]}" <<'PY'
import datetime, json, sys
results, bw, steps, mlp_steps, v1, v2, cpu, flags, load0, load1, cores, wait = sys.argv[1:13]
sizes = sys.argv[13:]
rate = {}
for r in map(json.loads, open(results)):
    rate[r["row"], r["col"]] = r["samples_per_s"]
short = lambda v: ".".join(v.split(".")[:2])  # 1.13.0a0 -> 1.13
t1, t2 = f"torch {short(v1) if v1 else '1.13'}", f"torch {short(v2) if v2 else '2'}"
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
print(f"date: {now}; CPU: {cpu}, {cores} cores, flags: {flags.strip()}")
print(f"steps: MLP {mlp_steps}, MLP at batch 1024 and GPT {steps} (timed: the second half); 1 thread per rank/process; "
      f"OMP_WAIT_POLICY={wait or '(unset)'}; load average before {load0}, after {load1}\n")
cols = [("mlp", 1), ("mlp1024", 1), ("gpt", 1), ("gpt", 128)]  # (row, tokens per sample)
print("| workload | MLP 784-512-512-10, SGD, batch 128: samples/s | the MLP, batch 1024: samples/s "
      "| char-GPT (kjv_gpt.yaml), AdamW, batch 32: samples/s | char-GPT: tokens/s |")
print("|---|---|---|---|---|")
def line(name, cell):
    print(f"| {name} | " + " | ".join(cell(row, per) for row, per in cols) + " |")
def val(col):
    return lambda row, per: f"{rate[row, col] * per:,.0f}" if (row, col) in rate else "n/a"
def ratio(a, b):
    return lambda row, per: f"{rate[row, a] / rate[row, b]:.2f}x" if (row, a) in rate and (row, b) in rate else "n/a"
line("dlt 1 rank", val("dlt1"))
line("dlt 2 ranks", val("dlt2"))
line("dlt scaling (2 ranks / 1)", ratio("dlt2", "dlt1"))
line("dlt 2 ranks, overlap off", val("dlt2_nooverlap"))
for t, name in (("t1", t1), ("t2", t2)):
    line(f"{name} DDP 1 process", val(f"{t}_1"))
    line(f"{name} DDP 2 processes", val(f"{t}_2"))
    line(f"{name} scaling (2 / 1)", ratio(f"{t}_2", f"{t}_1"))
for t, name in (("t1", t1), ("t2", t2)):
    line(f"dlt 2 ranks / {name} 2 processes", ratio("dlt2", f"{t}_2"))
print("\nAll-reduce between 2 processes, in place, float32 SUM (median call; GB/s = bytes / time):\n")
print("| backend | " + " | ".join(f"{s} MiB" for s in sizes) + " |")
print("|---|" + "---|" * len(sizes))
rows = list(map(json.loads, open(bw)))
for want in ("MPI", f"gloo (torch {v1 or '1.13'})", f"gloo (torch {v2 or '2'})"):
    r = next((r for r in rows if r["name"].startswith(want)), None)
    if r is None:
        print(f"| {want} | " + " | ".join("n/a" for _ in sizes) + " |")
        continue
    cells = []
    for s in sizes:
        m = r["allreduce"].get(s)
        cells.append(f"{m['gb_per_s']:.2f} GB/s ({m['ms']:.2f} ms)" if m else "n/a")
    print(f"| {r['name']} | " + " | ".join(cells) + " |")
PY
