#!/usr/bin/env bash
# Checks scripts/slurm/train.sbatch on a one-node Slurm cluster, with a
# stand-in for dlt (a shell script that traps signals), in about a minute:
# the job's exit status is dlt's; SIGUSR1 and SIGTERM sent to the batch shell
# reach every rank; a rank that requeues the job brings it back with
# SLURM_RESTART_COUNT=1 and the same output file; exit status 75 (dlt could
# not requeue) makes the batch script requeue the job.
#
#   tests/dist/slurm_template.sh
#
# Environment: DLT_SLURM_DIR as for scripts/slurm/start-cluster.sh;
# DLT_KEEP_WORK=1 keeps the scratch folder. Exit: 0 passed, 1 failed,
# 77 skipped (no root or no Slurm).
set -euo pipefail
# shellcheck source=tests/dist/slurm_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm_common.sh"

start_cluster

# The stand-in: `fake-dlt train MODE`. Every rank leaves marker files in
# marks/: ready.<restart>.<rank> once its traps are set, got.<restart>.<rank>
# with the signal it received. Modes: exit:N exits N at once; stop exits
# 138/143 on SIGUSR1/SIGTERM; requeue does that too, after rank 0 has
# requeued the job; no-scontrol exits 75 on a signal. After a restart every
# mode but exit:N ends at once with 0.
mkdir -p "$WORK/marks"
cat >"$WORK/fake-dlt" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
[[ $1 == train ]] || exit 2
mode=$2 rank=${SLURM_PROCID:-0} restart=${SLURM_RESTART_COUNT:-0}
marks="$PWD/marks"
# The first signal counts: rank 0's requeue sends every rank SIGTERM too.
got=""
trap '[[ -n $got ]] || got=USR1' USR1
trap '[[ -n $got ]] || got=TERM' TERM
touch "$marks/ready.$restart.$rank"
echo "fake-dlt rank $rank: $mode, restart $restart"
case $mode in exit:*) exit "${mode#exit:}" ;; esac
if ((restart > 0)); then
  echo "fake-dlt rank $rank: resumed"
  exit 0
fi
# Slurm signals every process of the step, this sleep too.
for _ in $(seq 600); do
  [[ -z $got ]] || break
  sleep 0.1 || true
done
[[ -n $got ]] || { echo "fake-dlt rank $rank: no signal in 60 s"; exit 1; }
echo "$got" >"$marks/got.$restart.$rank"
echo "fake-dlt rank $rank: got SIG$got"
status=$([[ $got == USR1 ]] && echo 138 || echo 143)
case $mode in
  # As dlt: rank 0 requeues the job, and no rank exits before it has (a rank
  # that ended first would take the step down, rank 0 with it).
  requeue)
    if ((rank == 0)); then
      scontrol requeue "$SLURM_JOB_ID"
      touch "$marks/requeued.$restart"
    else
      for _ in $(seq 300); do [[ -e $marks/requeued.$restart ]] && break; sleep 0.1 || true; done
    fi
    ;;
  no-scontrol) status=75 ;;
esac
exit "$status"
EOF
chmod +x "$WORK/fake-dlt"

# sbatch_fake MODE: submits the template with the stand-in; sets JOB.
sbatch_fake() {
  DLT_BIN="$WORK/fake-dlt" submit --ntasks=2 --chdir="$WORK" --job-name="fake-$1" "$TEMPLATE" "$1"
}

both_ready() { [[ -f $WORK/marks/ready.$1.0 && -f $WORK/marks/ready.$1.1 ]]; }

# expect_got SIGNAL: both ranks received it.
expect_got() {
  local r
  for r in 0 1; do
    [[ $(cat "$WORK/marks/got.0.$r" 2>/dev/null) == "$1" ]] ||
      fail "rank $r did not get SIG$1 (got: $(cat "$WORK/marks/got.0.$r" 2>/dev/null || echo nothing))"
  done
}

# signal_case MODE SIGNAL STATUS: SIGNAL sent to the batch shell alone, the
# job ends FAILED with STATUS.
signal_case() {
  rm -f "$WORK"/marks/*
  local j
  sbatch_fake "$1"
  j=$JOB
  wait_until 60 "both ranks of job $j to start" both_ready 0
  scancel --batch --signal="$2" "$j"
  wait_ended "$j" 60
  expect_got "$2"
  expect_end "$j" FAILED "$3:0"
  grep -q "got SIG$2; passing it on" "$WORK/slurm-$j.out" || fail "the batch shell did not log SIG$2"
  pass "SIG$2 to the batch shell reaches both ranks; exit status $3 is the job's"
}

# requeue_case MODE: after SIGUSR1 the job ($j) is requeued (by rank 0 or by
# the batch script), comes back at once with StartTime=now, and completes.
requeue_case() {
  rm -f "$WORK"/marks/*
  sbatch_fake "$1"
  j=$JOB
  wait_until 60 "both ranks of job $j to start" both_ready 0
  scancel --batch --signal=USR1 "$j"
  wait_until 60 "job $j to be requeued" requeued "$j"
  expect_got USR1
  start_now "$j"
  wait_ended "$j" 60
  expect_end "$j" COMPLETED 0:0
  [[ $(job_field "$j" Restarts) == 1 ]] || fail "job $j: Restarts=$(job_field "$j" Restarts), expected 1"
  both_ready 1 || fail "job $j: the restarted ranks did not see SLURM_RESTART_COUNT=1"
  local out="$WORK/slurm-$j.out"
  if ! grep -q "job $j, restart 0," "$out" || ! grep -q "job $j, restart 1," "$out"; then
    fail "job $j: slurm-$j.out lacks the first or the second start (--open-mode=append)"
  fi
}

t0=$SECONDS

sbatch_fake exit:0
j=$JOB
wait_ended "$j" 60
expect_end "$j" COMPLETED 0:0
grep -q "job $j, restart 0, nodes .*, 2 tasks: $WORK/fake-dlt train exit:0" "$WORK/slurm-$j.out" ||
  fail "job $j: no start line in slurm-$j.out"
pass "a run that ends with 0 completes, and logs job, restart, nodes and tasks"

sbatch_fake exit:2
j=$JOB
wait_ended "$j" 60
expect_end "$j" FAILED 2:0
pass "exit status 2 is the job's"

signal_case stop USR1 138
signal_case stop TERM 143

requeue_case requeue
pass "rank 0 requeues after SIGUSR1; the job restarts with SLURM_RESTART_COUNT=1 and completes"

requeue_case no-scontrol
grep -q "requeueing it from here" "$WORK/slurm-$j.out" || fail "job $j: the batch script did not requeue"
pass "exit status 75 makes the batch script requeue the job"

say "$((SECONDS - t0)) s"
summary
