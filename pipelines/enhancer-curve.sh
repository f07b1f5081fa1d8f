#!/usr/bin/env bash
# KVD and sKVD of the enhanced demo set at a few training step counts (issue 15's curve): trains
# once with pipelines/train.ini, enhances the synthetic set with the checkpoints of the given
# steps, and measures all of them (and the input) against the real set in one `epe metrics` call
# (pipelines/metrics.ini, KVD and sKVD only). Needs a finished pipelines/demo.sh run (its data and
# match store) in $EPE_DEMO_OUT (default <repo>/out/demo).
#   pipelines/enhancer-curve.sh [STEPS...]      default: 100 200 300 (the demo's 300-step run)
# Extra `epe train` options go in EPE_TRAIN_ARGS (e.g. EPE_TRAIN_ARGS="--lr-g 0.0005"); the
# number of steps is the largest of STEPS.
# Results: $EPE_DEMO_OUT/curve/metrics/metrics.md and curve.md (its table: set, KVD, sKVD).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/cmake/bootstrap.sh"

DEMO=${EPE_DEMO_OUT:-$EPE_ROOT/out/demo}
OUT=$DEMO/curve
STEPS=("$@")
[[ ${#STEPS[@]} -eq 0 ]] && STEPS=(100 200 300)
for f in "$DEMO/data/synthetic.csv" "$DEMO/data/real.csv" "$DEMO/match/match.h5"; do
  [[ -f $f ]] || { echo "enhancer-curve: $f is missing; run pipelines/demo.sh first" >&2; exit 1; }
done
last=0
for s in "${STEPS[@]}"; do
  [[ $s =~ ^[0-9]+$ ]] || { echo "enhancer-curve: step '$s' is not a number" >&2; exit 1; }
  (( s > last )) && last=$s
done
read -r -a TRAIN_ARGS <<< "${EPE_TRAIN_ARGS:-}"
mkdir -p "$OUT"
"$EPE" train --config "$EPE_ROOT/pipelines/train.ini" --synthetic "$DEMO/data/synthetic.csv" --real "$DEMO/data/real.csv" \
  --matches "$DEMO/match/match.h5" --out "$OUT/train" --force --checkpoint-every 100 --sample-every 0 \
  "${TRAIN_ARGS[@]}" --steps "$last"
FAKES=(--fake "$DEMO/data/synthetic.csv")
NAMES=synthetic
for s in "${STEPS[@]}"; do
  ck=$(printf '%s/train/checkpoints/step_%07d.pt' "$OUT" "$s")
  [[ -f $ck ]] || { echo "enhancer-curve: no checkpoint at step $s ($ck); steps must be multiples of 100" >&2; exit 1; }
  "$EPE" enhance --checkpoint "$ck" --list "$DEMO/data/synthetic.csv" --out "$OUT/enhanced-$s" \
    --name "step-$s" --force
  FAKES+=(--fake "$OUT/enhanced-$s/step-$s.csv")
  NAMES+=",step-$s"
done
"$EPE" metrics --config "$EPE_ROOT/pipelines/metrics.ini" --metrics kvd,skvd --real "$DEMO/data/real.csv" \
  "${FAKES[@]}" --names "$NAMES" --cache "$DEMO/metrics-cache" --out "$OUT/metrics" --force
# The curve: the rows of the metrics table (the input, then each step).
grep '^|' "$OUT/metrics/metrics.md" | tee "$OUT/curve.md"
echo "curve: $OUT/curve.md (from $OUT/metrics/metrics.md)"
