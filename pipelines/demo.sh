#!/usr/bin/env bash
# The main pipeline on the built-in demo data: set-up (as tests/run.sh), then
#   demo-data -> check (both lists) -> info
# Results go to $EPE_DEMO_OUT (default: <repo>/out/demo); each run replaces them.
# Options of the demo data can be changed through pipelines/demo.ini.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/cmake/bootstrap.sh"

OUT=${EPE_DEMO_OUT:-$EPE_ROOT/out/demo}
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }

step "demo data"
"$EPE" demo-data --config "$EPE_ROOT/pipelines/demo.ini" --out "$OUT/data" --force

step "check the synthetic list"
"$EPE" check --list "$OUT/data/synthetic.csv" --kind synthetic
step "check the real list"
"$EPE" check --list "$OUT/data/real.csv" --kind real

step "info"
"$EPE" info "$OUT/data/synthetic/gbuffers/0000.h5"

step "done"
echo "results: $OUT"
echo "  data:  $OUT/data/synthetic.csv, $OUT/data/real.csv"
