#!/usr/bin/env bash
# Installs a dlt .deb into a fresh Debian 12 root made by debootstrap
# (minbase) with apt, as a user on a new machine would, and runs `dlt info`
# and a short training run inside it (chroot). Needs root and the Debian
# mirror; the first run downloads ~100 MB for the root (cached as a tarball in
# DLT_DEBOOTSTRAP_CACHE, default ~/.cache/dlt-debootstrap) and each run the
# package's dependencies. ctest `package` (label slow) runs it on the build's
# package; scripts/package.sh makes a portable one.
#
#   tests/package/deb_test.sh build/package/dlt_0.1.0_amd64.deb
set -euo pipefail
deb=$(realpath "${1:?usage: deb_test.sh PACKAGE.deb}")
src=$(cd "$(dirname "$0")/../.." && pwd)
say() { echo "deb_test: $*"; }
fail() { echo "deb_test: FAIL: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { say "SKIPPED: needs root (debootstrap, chroot)"; exit 77; }
command -v debootstrap >/dev/null || apt-get install -y -q --no-install-recommends debootstrap >/dev/null
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
cache=${DLT_DEBOOTSTRAP_CACHE:-$HOME/.cache/dlt-debootstrap}
tarball=$cache/bookworm-minbase.tar
if [[ ! -f $tarball ]]; then
  mkdir -p "$cache"
  say "debootstrap bookworm (minbase) from $mirror, once"
  debootstrap --variant=minbase --make-tarball="$tarball.partial" bookworm "$(mktemp -d)" "$mirror" >/dev/null
  mv "$tarball.partial" "$tarball"
fi
root=$(mktemp -d)
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT
debootstrap --variant=minbase --unpack-tarball="$tarball" bookworm "$root" "$mirror" >/dev/null
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/dlt.deb"
say "apt-get install ./$(basename "$deb") in the fresh root"
chroot "$root" apt-get update -q >/dev/null 2>&1
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/dlt.deb \
  >"$root/tmp/apt.log" 2>&1 || { tail -20 "$root/tmp/apt.log" >&2; fail "apt-get install"; }
chroot "$root" dlt info >"$root/tmp/info.txt" 2>&1 || { cat "$root/tmp/info.txt" >&2; fail "dlt info"; }
head -3 "$root/tmp/info.txt" | sed 's/^/  /'
cp "$src/tests/fuzz/corpus/hdf5/classification.h5" "$root/tmp/data.h5"
cat >"$root/tmp/tiny.yaml" <<'YAML'
name: tiny
data: {file: /tmp/data.h5, train: {x: train/x, y: train/y}, val: {x: val/x, y: val/y}, batch_size: 4, workers: 1}
model: [{type: Linear, out: 8}, {type: ReLU}, {type: Linear, out: 3}]
optim: {name: adamw, lr: 0.01}
train: {steps: 8, log_every: 1}
YAML
chroot "$root" dlt train /tmp/tiny.yaml --run-dir /tmp/run >"$root/tmp/train.txt" 2>&1 ||
  { cat "$root/tmp/train.txt" >&2; fail "dlt train"; }
grep -q '^final: step 8' "$root/tmp/train.txt" || { cat "$root/tmp/train.txt" >&2; fail "no final line"; }
[[ -f $root/tmp/run/checkpoints/step-8/model.safetensors ]] || fail "no checkpoint"
say "dlt info and an 8-step training run work in a fresh Debian 12 root: $(grep '^final:' "$root/tmp/train.txt")"
