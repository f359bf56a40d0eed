# The torch peers a benchmark runs beside dlt in the same invocation (sourced):
# Debian's torch 1.13 (/usr/bin/python3) and the current torch from PyPI
# (TORCH2_PY, default ../shared/peers/torch2.sh once its environment exists:
# run that script once to create it, ~1.5 GB). Sets two arrays,
#   peer_pythons=(/usr/bin/python3 .../torch2.sh)  peer_versions=(1.13.1 2.15.0+cpu)
# with the current torch first. TORCH_PY=PYTHON runs that one peer only.
peer_pythons=() peer_versions=()
_peer_version() { "$1" -c 'import torch; print(torch.__version__)' 2>/dev/null | tail -1; }
_add_peer() {
  local v
  v=$(_peer_version "$1") || true
  if [[ -n $v ]]; then
    peer_pythons+=("$1")
    peer_versions+=("$v")
  else
    echo "peers: $1 cannot import torch: that peer is left out" >&2
  fi
}
if [[ -n ${TORCH_PY:-} ]]; then
  _add_peer "$TORCH_PY"
else
  _torch2=${TORCH2_PY:-}
  _shared="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/../shared/peers/torch2.sh"
  if [[ -z $_torch2 && -x $_shared && -f ${VENV:-${HOME:-/tmp}/.cache/dlt-peers/torch2}/.ready ]]; then
    _torch2=$_shared
  fi
  if [[ -n $_torch2 ]]; then _add_peer "$_torch2"
  else echo "peers: no current torch (run ../shared/peers/torch2.sh once, or set TORCH2_PY)" >&2; fi
  _add_peer /usr/bin/python3
fi
[[ ${#peer_pythons[@]} -gt 0 ]] || { echo "peers: no torch to compare with" >&2; exit 2; }
# Short names for table headers: "torch 2.15", "torch 1.13".
peer_label() { local v=${peer_versions[$1]}; v=${v%%+*}; echo "torch ${v%.*}"; }
