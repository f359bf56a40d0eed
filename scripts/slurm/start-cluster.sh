#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine (munge, slurmctld, slurmd),
# for trying scripts/slurm/train.sbatch and for the tests under tests/dist/.
# Runs as root, without systemd; scripts/slurm/stop-cluster.sh stops it.
#
#   scripts/slurm/start-cluster.sh
#   sbatch scripts/slurm/train.sbatch configs/kjv_gpt.yaml
#   scripts/slurm/stop-cluster.sh
#
# Environment:
#   DLT_SLURM_DIR   state, spool, PID files and logs (default: /tmp/dlt-slurm)
#
# The configuration goes to /etc/slurm/slurm.conf, where sbatch, srun, squeue
# and scontrol look without SLURM_CONF. A slurm.conf this script did not write
# (a real cluster's) is never replaced. Exit: 0 when the node is up (or was
# already), 1 when something is missing or a daemon does not come up; the
# reason and the log to read are printed.
set -euo pipefail

D="${DLT_SLURM_DIR:-/tmp/dlt-slurm}"
CONF=/etc/slurm/slurm.conf
# The first line of every slurm.conf written here: how a later run (and
# stop-cluster.sh) recognises its own file.
MARK="# dlt one-node cluster (scripts/slurm/start-cluster.sh); state in"

# slurmd and slurmctld, the client commands, munge for their authentication,
# and the PMIx library that srun --mpi=pmix loads to start OpenMPI programs.
PACKAGES=(slurm-wlm slurmctld slurmd slurm-client munge openmpi-bin libpmix-dev)

say() { printf 'start-cluster: %s\n' "$*"; }
die() { printf 'start-cluster: error: %s\n' "$*" >&2; exit 1; }

install_packages() {
  local pkg status
  local -a missing=()
  for pkg in "${PACKAGES[@]}"; do
    # An unknown package makes dpkg-query fail, which counts as missing too.
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) || status=""
    [[ $status == *" ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return
  command -v apt-get >/dev/null || die "missing packages ${missing[*]}, and no apt-get to install them"
  say "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Reuses a running munged (the system's, say); otherwise starts one and
# leaves a note so that stop-cluster.sh stops only a munged started here.
start_munge() {
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0711 /var/lib/munge
  install -d -o munge -g munge -m 0700 /var/log/munge /etc/munge
  if [[ ! -s /etc/munge/munge.key ]]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  if ! munge -n >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged || die "munged did not start (see /var/log/munge/munged.log)"
    echo /run/munge/munged.pid >"$D/munged.started-here"
    for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  munge -n | unmunge >/dev/null 2>&1 || die "munge does not work (see /var/log/munge/munged.log)"
}

write_conf() {
  local host ncpu mem
  host=$(hostname -s)
  ncpu=$(nproc)
  mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
  mem=$((${mem:-2000} * 9 / 10))  # a margin: slurmd drains a node that has less than it claims
  mkdir -p "$(dirname "$CONF")"
  # MpiDefault=pmix: a plain `srun dlt train` starts OpenMPI ranks that find
  # each other (with none, OpenMPI aborts in MPI_Init). JobRequeue=1: batch
  # jobs may be requeued unless submitted with --no-requeue. KillWait=30: the
  # seconds between SIGTERM and SIGKILL, as on most clusters (a checkpoint on
  # SIGTERM must fit in them). MinJobAge=300: finished jobs stay visible to
  # scontrol for 5 minutes, so scripts can read their state and exit code.
  cat >"$CONF" <<EOF
$MARK $D
ClusterName=dlt
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
StateSaveLocation=$D/ctld
SlurmdSpoolDir=$D/d
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
JobRequeue=1
MailProg=/bin/true
KillWait=30
MinJobAge=300
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$ncpu RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

main() {
  ((EUID == 0)) || die "run as root: this cluster's daemons run as root (SlurmUser=root)"
  install_packages
  mkdir -p "$D/log"

  if pid_alive "$D/slurmctld.pid" && pid_alive "$D/slurmd.pid"; then
    say "already running (state in $D)"
    sinfo
    return
  fi
  if [[ -e $CONF ]] && ! head -1 "$CONF" | grep -qF "$MARK"; then
    die "$CONF exists and was not written by this script (a real cluster's?); not replacing it"
  fi
  # A controller or node daemon that is not ours holds the ports ours need.
  local p
  for p in slurmctld slurmd; do
    if pgrep -x "$p" >/dev/null && ! pid_alive "$D/$p.pid"; then
      die "a $p is running that this script did not start (pid $(pgrep -x "$p" | head -1)); stop it first"
    fi
  done

  local t0 t1
  t0=$(date +%s.%N)
  start_munge
  write_conf
  # Fresh controller state each time: jobs left over from an earlier session
  # must not come back to life and run again.
  pid_alive "$D/slurmctld.pid" || rm -rf "$D/ctld" "$D/d"
  mkdir -p "$D/ctld" "$D/d"

  local host
  host=$(hostname -s)
  # -i: start even though the state dir is empty. Both daemons fork into the
  # background and write their PID files.
  pid_alive "$D/slurmctld.pid" || slurmctld -f "$CONF" -i || die "slurmctld did not start (see $D/log/slurmctld.log)"
  for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
  scontrol ping 2>/dev/null | grep -q UP || die "slurmctld does not answer (see $D/log/slurmctld.log)"
  pid_alive "$D/slurmd.pid" || slurmd -f "$CONF" || die "slurmd did not start (see $D/log/slurmd.log)"
  local state=""
  for _ in $(seq 150); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null | tr -d '*~#' || true)
    case $state in idle | mixed | allocated) break ;; esac
    sleep 0.2
  done
  case $state in
    idle | mixed | allocated) ;;
    *) die "node $host is '${state:-unknown}', not idle (see $D/log/slurmd.log and slurmctld.log)" ;;
  esac
  t1=$(date +%s.%N)
  sinfo
  say "up in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; state and logs in $D"
}

main "$@"
