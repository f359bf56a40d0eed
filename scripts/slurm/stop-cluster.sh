#!/usr/bin/env bash
# Stops the one-node Slurm cluster of scripts/slurm/start-cluster.sh: cancels
# the jobs left in it, then stops slurmd, slurmctld and (only if that script
# started it) munged, each by its PID file.
#
#   scripts/slurm/stop-cluster.sh
#
# Environment:
#   DLT_SLURM_DIR   the state dir start-cluster.sh used (default: /tmp/dlt-slurm)
set -euo pipefail

D="${DLT_SLURM_DIR:-/tmp/dlt-slurm}"

say() { printf 'stop-cluster: %s\n' "$*"; }

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Cancels every job and waits for them to leave the queue: their tasks are
# children of slurmstepd, which would otherwise outlive slurmd. Cancelled
# tasks get SIGTERM and, KillWait (30 s) later, SIGKILL; hence the bound.
cancel_jobs() {
  pid_alive "$D/slurmctld.pid" || return 0
  local -a jobs
  mapfile -t jobs < <(timeout 10 squeue -h -o %A 2>/dev/null || true)
  ((${#jobs[@]} > 0)) || return 0
  say "cancelling jobs ${jobs[*]}"
  timeout 10 scancel "${jobs[@]}" 2>/dev/null || true
  local left=""
  for _ in $(seq 90); do
    left=$(timeout 10 squeue -h -o %A 2>/dev/null || true)
    [[ -z $left ]] && return 0
    sleep 0.5
  done
  say "jobs still in the queue after 45 s: ${left//$'\n'/ }"
}

# $1: PID file, $2: name. TERM, then KILL if it has not exited in 10 s.
stop_pid() {
  pid_alive "$1" || { rm -f "$1"; return 0; }
  local p
  p=$(cat "$1")
  kill -TERM "$p"
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$p" 2>/dev/null; then
    say "$2 ($p) did not exit; sending KILL"
    kill -KILL "$p"
  fi
  rm -f "$1"
}

cancel_jobs
stop_pid "$D/slurmd.pid" slurmd
stop_pid "$D/slurmctld.pid" slurmctld
if [[ -s $D/munged.started-here ]]; then
  stop_pid "$(cat "$D/munged.started-here")" munged
  rm -f "$D/munged.started-here"
fi
say "stopped"
