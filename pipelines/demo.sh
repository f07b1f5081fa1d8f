#!/usr/bin/env bash
# The main pipeline on the built-in demo data: set-up (as tests/run.sh), then
#   demo-data -> check (both lists) -> info (one G-buffer file)
#   -> demo-segmenter -> segment + check (both sets)
#   -> crops (grid mode, both sets) -> match (synthetic -> real)
#   -> weights (+ density map) -> show-matches -> layout (both sets, with the matches)
#   -> train (tiny preset, 300 steps) -> enhance (the synthetic set)
#   -> baseline color-transfer -> metrics (synthetic, colour transfer, enhanced vs real)
#   -> export (the reference's CSV/.npz)
# Results go to $EPE_DEMO_OUT (default: <repo>/out/demo); each run replaces them.
# Options: pipelines/demo.ini (demo data), pipelines/segment.ini (segmentation),
# pipelines/crops.ini (crop embeddings), pipelines/match.ini (matching),
# pipelines/train.ini (training), pipelines/metrics.ini (metrics).
# EPE_VGG=weights.pt uses real VGG-16 weights; without it VGG-16 is randomly initialised
# (nothing is downloaded), which exercises every code path but gives meaningless features.
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

step "demo segmenter (a colour-based TorchScript model built by epe; NOT MSeg)"
mkdir -p "$OUT/segment"
"$EPE" demo-segmenter --out "$OUT/segment/demo-segmenter.pt" --force
for set in synthetic real; do
  step "robust labels of the $set set with epe segment"
  "$EPE" segment --config "$EPE_ROOT/pipelines/segment.ini" --list "$OUT/data/$set.csv" \
    --model "$OUT/segment/demo-segmenter.pt" --out "$OUT/segment/$set" --force
  "$EPE" check --list "$OUT/segment/$set/$set.csv" --kind "$set"
done

VGG_ARGS=()
if [[ -n "${EPE_VGG:-}" ]]; then VGG_ARGS=(--vgg "$EPE_VGG"); fi
mkdir -p "$OUT/crops" "$OUT/match"
for set in synthetic real; do
  step "crop embeddings of the $set set (grid mode)"
  "$EPE" crops --config "$EPE_ROOT/pipelines/crops.ini" --list "$OUT/data/$set.csv" --name "$set" \
    --out "$OUT/crops/$set.h5" --force "${VGG_ARGS[@]}"
done

step "match synthetic crops to real crops"
"$EPE" match --config "$EPE_ROOT/pipelines/match.ini" --src "$OUT/crops/synthetic.h5" --dst "$OUT/crops/real.h5" \
  --out "$OUT/match/match.h5" --force

step "sampling weights"
"$EPE" weights "$OUT/match/match.h5" --density-png "$OUT/match/density.png" --force

step "matched pairs per similarity band"
"$EPE" show-matches "$OUT/match/match.h5" --out "$OUT/match/matches.png" --force

step "layout analysis: where classes sit in both sets, and how well matching aligns crops"
# The demo sets' own robust labels (exact, from the renderer); the demo segmenter's labels
# ($OUT/segment/<set>/<set>.csv) work the same way but are a colour heuristic's, noisier.
"$EPE" layout --list "$OUT/data/synthetic.csv" --list "$OUT/data/real.csv" \
  --names synthetic,real --matches "$OUT/match/match.h5" --out "$OUT/layout" --force

step "train the enhancer (tiny preset, 300 steps on matched crops; a demonstration, not a model)"
"$EPE" train --config "$EPE_ROOT/pipelines/train.ini" --synthetic "$OUT/data/synthetic.csv" --real "$OUT/data/real.csv" \
  --matches "$OUT/match/match.h5" --out "$OUT/train" --force "${VGG_ARGS[@]}"

step "enhance the synthetic frames with the trained generator"
"$EPE" enhance --checkpoint "$OUT/train" --list "$OUT/data/synthetic.csv" --out "$OUT/enhanced" --force

step "colour-transfer baseline (Reinhard) of the synthetic set"
"$EPE" baseline color-transfer --list "$OUT/data/synthetic.csv" --reference "$OUT/data/real.csv" \
  --out "$OUT/color-transfer" --force

step "realism metrics: input, colour transfer and the enhancer against the real set"
"$EPE" metrics --config "$EPE_ROOT/pipelines/metrics.ini" --real "$OUT/data/real.csv" \
  --fake "$OUT/data/synthetic.csv" --fake "$OUT/color-transfer/synthetic-color-transfer.csv" \
  --fake "$OUT/enhanced/synthetic-enhanced.csv" --names synthetic,color-transfer,enhanced \
  --model "$OUT/segment/demo-segmenter.pt" \
  --cache "$OUT/metrics-cache" --out "$OUT/metrics" --force "${VGG_ARGS[@]}"

step "export for the reference implementation"
"$EPE" export "$OUT/match/match.h5" --format epe --out "$OUT/match" --force

step "done"
echo "results: $OUT"
echo "  data:  $OUT/data/synthetic.csv, $OUT/data/real.csv"
echo "  robust labels (demo segmenter): $OUT/segment/synthetic/synthetic.csv, $OUT/segment/real/real.csv"
echo "  crops: $OUT/crops/synthetic.h5, $OUT/crops/real.h5   (epe info FILE describes them)"
echo "  match: $OUT/match/match.h5, matches.png (pairs per cosine band), density.png (sampling density),"
echo "         matched_crops.csv + crop_weights.npz (for the reference's training code)"
echo "  enhancer: $OUT/train (log.csv, samples/, checkpoints/), enhanced frames: $OUT/enhanced"
echo "  metrics: $OUT/metrics/metrics.md (KVD, sKVD and semantic consistency of input, colour transfer and"
echo "           enhancer vs real, each number with its protocol)"
echo "  layout: $OUT/layout/report.md (comparison.json, pictures; notebooks/layout.ipynb draws it)"
