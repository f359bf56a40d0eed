#!/usr/bin/env bash
# Sets up and builds dlt (scripts/setup.sh), then runs the main job.
#
#   scripts/demo.sh
#
# DLT_BUILD_DIR and DLT_JOBS are as for scripts/setup.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir="${DLT_BUILD_DIR:-build}"
dlt="$build_dir/dlt"

say() { printf 'demo: %s\n' "$*"; }

# 1. Packages and build.
scripts/setup.sh

# 2. Data. Nothing to prepare yet; the training run will import its data set
#    here (into data/, which git ignores) before it starts.

# 3. The main job. For now: what this build of dlt contains. This becomes
#    the training run of an example experiment from configs/.
say "running $dlt info"
exec "$dlt" info
