# shellcheck shell=bash disable=SC2034  # TEMPLATE is for the tests
# Shared by the Slurm tests in this folder (sourced, not run): a one-node
# cluster for the test's lifetime, a scratch folder, bounded waits on job
# states, and failure reports that show what the jobs and slurmctld said.
#
# A test sources this file, then calls start_cluster; every job it submits
# goes through submit so that the exit trap can cancel it. Exit statuses:
# 0 passed, 1 failed, 77 skipped (no root, no Slurm, or the cluster did not
# start; the reason is printed).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TEMPLATE="$ROOT/scripts/slurm/train.sbatch"
SLURM_DIR="${DLT_SLURM_DIR:-/tmp/dlt-slurm}"
TEST_NAME="$(basename "$0" .sh)"
# The test's jobs get only the options written here, even when it runs
# inside another Slurm job or under SBATCH_* defaults.
while read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(SLURM|SBATCH|SRUN|SALLOC)_')
WORK=""
JOB=""
JOBS=()
STARTED_CLUSTER=0
PASSED=0
CTLD_LOG="$SLURM_DIR/log/slurmctld.log"
CTLD_LOG_FROM=0  # the log's size when the test began: failures show what came after

say() { printf '%s: %s\n' "$TEST_NAME" "$*"; }

skip() {
  printf 'SKIP %s: %s\n' "$TEST_NAME" "$*"
  exit 77
}

# Prints what the jobs wrote and the controller's last words, then fails.
fail() {
  printf 'FAIL %s: %s\n' "$TEST_NAME" "$*" >&2
  local f j
  for j in "${JOBS[@]}"; do
    printf 'job %s: JobState=%s Restarts=%s ExitCode=%s\n' "$j" "$(job_field "$j" JobState)" \
      "$(job_field "$j" Restarts)" "$(job_field "$j" ExitCode)" >&2
  done
  for f in "$WORK"/slurm-*.out; do
    [[ -f $f ]] || continue
    printf '\n----- %s\n' "$f" >&2
    cat "$f" >&2
  done
  if [[ -f $CTLD_LOG ]]; then
    printf '\n----- %s, the last lines written during this test\n' "$CTLD_LOG" >&2
    tail -c +$((CTLD_LOG_FROM + 1)) "$CTLD_LOG" | tail -n 40 >&2
  fi
  exit 1
}

pass() {
  PASSED=$((PASSED + 1))
  say "ok: $*"
}

summary() {
  echo "$TEST_NAME: $PASSED passed, 0 failed"
}

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

cleanup() {
  local rc=$?
  if ((${#JOBS[@]} > 0)) && pid_alive "$SLURM_DIR/slurmctld.pid"; then
    timeout 10 scancel "${JOBS[@]}" 2>/dev/null || true
  fi
  if ((STARTED_CLUSTER)); then
    "$ROOT/scripts/slurm/stop-cluster.sh" >/dev/null 2>&1 || say "stop-cluster.sh failed"
  fi
  if [[ -n $WORK && -z ${DLT_KEEP_WORK:-} ]]; then
    rm -rf "$WORK"
  elif [[ -n $WORK ]]; then
    say "kept $WORK"
  fi
  exit "$rc"
}

# Starts the cluster unless it is already up, and stops it at exit only if
# it was started here. Also makes the scratch folder $WORK.
start_cluster() {
  ((EUID == 0)) || skip "needs root: the test cluster's daemons run as root"
  # One Slurm test at a time: they share the cluster, and one's exit stops it.
  exec 9>"$SLURM_DIR.lock"
  flock -w 600 9 || fail "another Slurm test held $SLURM_DIR.lock for 10 minutes"
  if ! pid_alive "$SLURM_DIR/slurmctld.pid"; then
    STARTED_CLUSTER=1
  fi
  trap cleanup EXIT
  CTLD_LOG_FROM=$(stat -c %s "$CTLD_LOG" 2>/dev/null || echo 0)
  local out
  # 9>&-: the daemons must not inherit (and hold) the lock.
  if ! out=$("$ROOT/scripts/slurm/start-cluster.sh" 2>&1 9>&-); then
    printf '%s\n' "$out"
    skip "the Slurm cluster did not start (scripts/slurm/start-cluster.sh, above)"
  fi
  local cmd
  for cmd in sbatch scancel scontrol squeue srun; do
    command -v "$cmd" >/dev/null || skip "no $cmd after start-cluster.sh"
  done
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/$TEST_NAME.XXXXXX")"
}

# submit [sbatch options] SCRIPT [args]: sets JOB to the job id (not a
# function to call as $(...): the exit trap must learn of the job).
submit() {
  JOB=$(sbatch --parsable "$@") || fail "sbatch $* failed"
  JOB=${JOB%%;*}
  JOBS+=("$JOB")
}

# job_field JOB NAME: one field of `scontrol show job` (JobState, Restarts, ExitCode, ...).
job_field() {
  scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND until it succeeds; fails
# naming WHAT after SECONDS.
wait_until() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < end)) || fail "timed out after ${limit} s waiting for $what"
    sleep 0.5
  done
}

# state_in JOB STATE...: whether the job is in one of the states.
state_in() {
  local job=$1 state s
  state=$(job_field "$job" JobState)
  shift
  for s in "$@"; do [[ $state == "$s" ]] && return 0; done
  return 1
}

# Ended: not pending, running, completing or on its way back after a requeue.
job_ended() {
  ! state_in "$1" PENDING RUNNING COMPLETING CONFIGURING REQUEUED REQUEUE_FED REQUEUE_HOLD SUSPENDED ""
}

# wait_ended JOB SECONDS
wait_ended() {
  wait_until "$2" "job $1 to end" job_ended "$1"
}

# expect_end JOB STATE EXITCODE: the job ended so, e.g. COMPLETED 0:0.
expect_end() {
  local state code
  state=$(job_field "$1" JobState)
  code=$(job_field "$1" ExitCode)
  [[ $state == "$2" && $code == "$3" ]] ||
    fail "job $1 ended $state with exit code $code, expected $2 with $3"
}

requeued() {
  [[ $(job_field "$1" Restarts) -ge 1 ]] && state_in "$1" PENDING REQUEUED
}

# Whether every slurmstepd of the job's earlier run has exited. The old
# step's PMIx socket lingers until then, and a new step of the same id fails
# to launch (while srun still exits with 0).
old_run_gone() {
  ! pgrep -f "^slurmstepd: \[$1\." >/dev/null
}

# The requeued job becomes eligible about 2 minutes after the requeue: start
# it now, once its earlier run has gone. scontrol refuses until the job is
# pending again, hence the retries.
start_now() {
  wait_until 40 "the earlier run of job $1 to end" old_run_gone "$1"
  wait_until 30 "job $1 to accept StartTime=now" scontrol update JobId="$1" StartTime=now
}
