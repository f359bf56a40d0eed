#!/usr/bin/env bash
# Preemption end to end on a one-node Slurm cluster: a 2-rank training job
# submitted with scripts/slurm/train.sbatch is sent SIGUSR1 mid-run, writes a
# checkpoint, requeues itself, comes back and resumes, and its final model is
# byte-identical to that of an uninterrupted 2-rank run under mpirun. Then
# the same with scontrol hidden from dlt (a container without Slurm's
# client): every rank exits 75, so srun does, and the batch script requeues
# the job itself.
#
#   tests/dist/slurm_e2e.sh
#
# Environment: DLT (default build/dlt), DLT_SLURM_DIR as for
# scripts/slurm/start-cluster.sh, DLT_KEEP_WORK=1 keeps the scratch folder.
# Takes about two minutes. Exit: 0 passed, 1 failed, 77 skipped (no root,
# Slurm, mpirun or h5py).
set -euo pipefail
# shellcheck source=tests/dist/slurm_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm_common.sh"

DLT="${DLT:-$ROOT/build/dlt}"
PY=/usr/bin/python3
# Long enough (10 to 20 s on 2 cores) that the signal lands mid-run.
STEPS=2000
LIMIT=240  # seconds from sbatch to the end of the requeued job

[[ -x $DLT ]] || fail "$DLT is not built (or set DLT)"
command -v mpirun >/dev/null || skip "no mpirun (openmpi-bin)"
$PY -c 'import h5py, numpy' 2>/dev/null || skip "$PY cannot import h5py and numpy (python3-h5py)"

start_cluster
cd "$WORK"

# A learnable 3-class problem over 16 features.
$PY - <<'EOF'
import h5py, numpy as np
rng = np.random.default_rng(0)
w = rng.standard_normal((16, 3))
with h5py.File("data.h5", "w") as f:
    for split, n in (("train", 512), ("val", 128)):
        x = rng.standard_normal((n, 16)).astype(np.float32)
        f[f"{split}/x"] = x
        f[f"{split}/y"] = (x @ w).argmax(1).astype(np.int64)
EOF

# One checkpoint, at the end (every: 0), unless a signal asks for one.
cat >exp.yaml <<EOF
name: slurm_e2e
seed: 1
data:
  file: $WORK/data.h5
  train: {x: train/x, y: train/y}
  val: {x: val/x, y: val/y}
  batch_size: 32
  workers: 1
model:
  - {type: Linear, out: 1024}
  - {type: ReLU}
  - {type: Linear, out: 1024}
  - {type: ReLU}
  - {type: Linear, out: 3}
optim: {name: sgd, lr: 0.05}
train: {steps: $STEPS, threads: 1, log_every: 1, eval_every: 500}
checkpoint: {every: 0}
EOF
"$DLT" validate exp.yaml >validate.log 2>&1 || { cat validate.log; fail "dlt validate exp.yaml failed"; }

t0=$SECONDS
if ! timeout 300 mpirun --allow-run-as-root --oversubscribe --bind-to none -n 2 \
  "$DLT" train exp.yaml --run-dir "$WORK/ref" >ref.log 2>&1; then
  tail -n 30 ref.log
  fail "the uninterrupted mpirun run failed (ref.log above)"
fi
ref_model="$WORK/ref/checkpoints/step-$STEPS/model.safetensors"
[[ -f $ref_model ]] || fail "the uninterrupted run wrote no $ref_model"
pass "uninterrupted 2-rank run under mpirun: $((SECONDS - t0)) s"

run="$WORK/run"
t0=$SECONDS
DLT_BIN="$DLT" submit --ntasks=2 --chdir="$WORK" --job-name=dlt-e2e "$TEMPLATE" exp.yaml --run-dir "$run"
j=$JOB
out="$WORK/slurm-$j.out"
deadline=$((SECONDS + LIMIT))
left() { echo $((deadline > SECONDS ? deadline - SECONDS : 1)); }

last_step() {
  grep -o '"step":[0-9]*' "$run/metrics.jsonl" 2>/dev/null | tail -1 | cut -d: -f2
}
# Running, and past step 20; an ended job fails at once.
progressed() {
  job_ended "$j" && fail "job $j ended before it could be interrupted (make STEPS larger?)"
  local step
  step=$(last_step || true)
  state_in "$j" RUNNING && ((${step:-0} >= 20))
}
wait_until "$(left)" "job $j to run past step 20" progressed
scancel --batch --signal=USR1 "$j"
say "sent SIGUSR1 to job $j at step $(last_step), $((SECONDS - t0)) s after sbatch"

wait_until "$(left)" "job $j to be requeued" requeued "$j"
grep -Eq 'checkpoint .*step-[0-9]+' "$out" || fail "job $j: no checkpoint before the requeue"
say "requeued $((SECONDS - t0)) s after sbatch"
start_now "$j"
wait_ended "$j" "$(left)"
expect_end "$j" COMPLETED 0:0
[[ $(job_field "$j" Restarts) == 1 ]] || fail "job $j: Restarts=$(job_field "$j" Restarts), expected 1"
pass "the job stopped on SIGUSR1, requeued itself and completed after $((SECONDS - t0)) s"

resumed=$(sed -n 's/.*resuming from .*(step \([0-9]*\)).*/\1/p' "$out" | head -1)
[[ -n $resumed ]] || fail "job $j: no 'resuming from' line in slurm-$j.out"
((resumed > 0 && resumed < STEPS)) || fail "job $j resumed from step $resumed, not from mid-run"
[[ -d $run/checkpoints/step-$resumed ]] || fail "no checkpoint folder $run/checkpoints/step-$resumed"
pass "the restarted job resumed from the checkpoint of step $resumed"

model="$run/checkpoints/step-$STEPS/model.safetensors"
[[ -f $model ]] || fail "job $j wrote no $model"
cmp "$ref_model" "$model" || fail "the interrupted run's final model differs from the uninterrupted run's"
pass "final model byte-identical to the uninterrupted run's"

# dlt without scontrol on its PATH: each rank's exit status is rank 0's 75
# (a rank with 138 would make srun report 138, or 143 once --kill-on-bad-exit
# has killed it, and the job would end FAILED).
mkdir -p "$WORK/no-slurm-bin"
cat >"$WORK/dlt-without-scontrol" <<EOF
#!/bin/sh
PATH=$WORK/no-slurm-bin exec "$DLT" "\$@"
EOF
chmod +x "$WORK/dlt-without-scontrol"
run="$WORK/run-without-scontrol"
t0=$SECONDS
deadline=$((SECONDS + LIMIT))
DLT_BIN="$WORK/dlt-without-scontrol" submit --ntasks=2 --chdir="$WORK" --job-name=dlt-e2e-75 "$TEMPLATE" exp.yaml \
  --run-dir "$run"
j=$JOB
out="$WORK/slurm-$j.out"
wait_until "$(left)" "job $j to run past step 20" progressed
scancel --batch --signal=USR1 "$j"
wait_until "$(left)" "job $j to be requeued" requeued "$j"
grep -q "scontrol is not on PATH" "$out" || fail "job $j: dlt did not say it could not requeue"
grep -q "requeueing it from here" "$out" ||
  fail "job $j: the batch script did not requeue the job ($(grep 'exited with status' "$out"))"
start_now "$j"
wait_ended "$j" "$(left)"
expect_end "$j" COMPLETED 0:0
cmp "$ref_model" "$run/checkpoints/step-$STEPS/model.safetensors" ||
  fail "the run requeued by the batch script ended with another model than the uninterrupted run's"
pass "without scontrol every rank exited 75, the batch script requeued job $j, and it completed identically in $((SECONDS - t0)) s"

summary
