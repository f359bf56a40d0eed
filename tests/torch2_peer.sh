# Sourced by the tests that run against the current torch
# (../shared/peers/torch2.sh: torch 2.15): sets `torch2` (the command, used as
# python3) and `venv` (its environment), or exits 77 (skipped) where that
# torch is not set up: it is a 1.5 GB download, made by the script on first
# use, not by the tests. TORCH2_SH and VENV override the two.
torch2=${TORCH2_SH:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../shared/peers/torch2.sh}
venv=${VENV:-${HOME:-/tmp}/.cache/dlt-peers/torch2}
if [[ ! -x $torch2 || ! -f $venv/.ready ]]; then
  echo "skipped: the current torch is not set up (run ../shared/peers/torch2.sh once)"
  exit 77
fi
