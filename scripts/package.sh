#!/usr/bin/env bash
# A portable Debian package: builds dlt in build-package (the default,
# portable build: baseline x86-64 code that picks its AVX2 or AVX-512 kernels
# at start-up, so it runs on any x86-64 node), packs it with cpack into
# build-package/package/dlt_<version>_amd64.deb, and installs that into a
# fresh Debian 12 root to run it there (tests/package/deb_test.sh; --no-test
# skips this).
#
#   scripts/package.sh [--no-test]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
install_packages
setup_ccache
build=${DLT_PACKAGE_BUILD_DIR:-build-package}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDLT_NATIVE=OFF -DDLT_TESTS=OFF >/dev/null
cmake --build "$build" -j "${DLT_JOBS:-2}"
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/package/dlt_*_amd64.deb)
echo "package: $deb"
[[ ${1:-} == --no-test ]] || tests/package/deb_test.sh "$deb"
