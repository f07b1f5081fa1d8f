#!/usr/bin/env bash
# Submits the whole EPE chain to Slurm in one command, as array jobs joined by --dependency:
#
#   segment (array, per set) -> merge segment      \
#   crops   (array, per set) -> merge crops  -> match (grid array) -> merge match -> weights -> train
#
#   pipelines/slurm/submit.sh CONFIG.sh      (see pipelines/slurm/config.sh for every setting)
#
# Every step is an `epe` command on its own shard (--shard auto from the array task; the match
# grid cell from the task index), and every merge checks that all shards are there and alike,
# so the result equals one unsharded run. A failed task fails its step; the steps after it are
# cancelled (--kill-on-invalid-dep). Resubmitting the same config skips the shards that are
# already complete. Job ids go to $OUT/logs/jobs.txt ("step id" lines), logs to
# $OUT/logs/<step>-<job>_<task>.log.
set -euo pipefail

CONFIG=${1:?usage: pipelines/slurm/submit.sh CONFIG.sh}
[ -f "$CONFIG" ] || { echo "submit.sh: config '$CONFIG' does not exist" >&2; exit 1; }
# shellcheck source=config.sh
source "$CONFIG"
command -v sbatch >/dev/null || { echo "submit.sh: sbatch not found (is this a Slurm login node?)" >&2; exit 1; }
[ -x "$EPE" ] || { echo "submit.sh: EPE='$EPE' is not an executable (build epe, or set EPE in $CONFIG)" >&2; exit 1; }
for v in SEGMENT_SHARDS CROPS_SHARDS MATCH_SRC_SHARDS MATCH_DST_SHARDS TRAIN_TASKS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: $v = '${!v}' in $CONFIG: expected a count >= 1" >&2; exit 1; }
done
for s in $STAGES; do
  case $s in segment | crops | match | weights | train) ;;
  *) echo "submit.sh: STAGES in $CONFIG: unknown step '$s' (segment crops match weights train)" >&2; exit 1 ;;
  esac
done
for l in "$SYNTHETIC" "$REAL"; do
  [ -f "$l" ] || { echo "submit.sh: list '$l' does not exist (SYNTHETIC / REAL in $CONFIG)" >&2; exit 1; }
done

mkdir -p "$OUT/logs" "$OUT/segment" "$OUT/crops" "$OUT/match/parts"
JOBS=$OUT/logs/jobs.txt
: >"$JOBS"
q() { printf '%q' "$1"; }
E=$(q "$EPE")
has() { [[ " $STAGES " == *" $1 "* ]]; }
VGG_ARG=${VGG:+--vgg $(q "$VGG")}

# submit STEP DEPENDENCIES SBATCH_OPTIONS ARRAY COMMAND: prints the job id.
submit() {
  local step=$1 deps=$2 opts=$3 array=$4 cmd=$5 id
  local args=(--parsable --job-name="epe-$step" --kill-on-invalid-dep=yes)
  if [ -n "$array" ]; then
    args+=(--array="$array" --output="$OUT/logs/$step-%A_%a.log")
  else
    args+=(--output="$OUT/logs/$step-%j.log")
  fi
  deps=${deps#:}
  [ -n "$deps" ] && args+=(--dependency="afterok:$deps")
  # The option strings are word lists on purpose; --wrap runs its command with /bin/sh.
  # shellcheck disable=SC2086
  id=$(sbatch "${args[@]}" $SBATCH_ALL $opts --wrap "set -eu; $cmd")
  id=${id%%;*}
  echo "$step $id" >>"$JOBS"
  echo "$id"
}

declare -A LIST=([synthetic]=$SYNTHETIC [real]=$REAL) TRAIN_LIST=([synthetic]=$SYNTHETIC [real]=$REAL)
segment_done="" crops_done="" match_done="" weights_done=""

if has segment; then
  model_dep=""
  if [ ! -f "$SEGMENT_MODEL" ]; then
    echo "submit.sh: SEGMENT_MODEL '$SEGMENT_MODEL' does not exist: the first job builds the demo segmenter there" \
      "(a colour heuristic, NOT MSeg)"
    model_dep=$(submit segment-model "" "$MERGE_SBATCH" "" "$E demo-segmenter --out $(q "$SEGMENT_MODEL")")
  fi
  for set in synthetic real; do
    dir=$OUT/segment/$set
    id=$(submit "segment-$set" "$model_dep" "$SEGMENT_SBATCH" "0-$((SEGMENT_SHARDS - 1))" \
      "$E segment --config $(q "$SEGMENT_INI") --list $(q "${LIST[$set]}") --model $(q "$SEGMENT_MODEL") --out $(q "$dir") --shard auto $SEGMENT_ARGS")
    id=$(submit "segment-merge-$set" "$id" "$MERGE_SBATCH" "" "$E merge segment --out $(q "$dir") $(q "$dir") --force")
    segment_done+=":$id"
  done
fi
for set in synthetic real; do  # the robust labels, when this chain or an earlier one made them
  seg_list=$OUT/segment/$set/$(basename "${LIST[$set]}")
  if has segment || [ -f "$seg_list" ]; then TRAIN_LIST[$set]=$seg_list; fi
done

if has crops; then
  for set in synthetic real; do
    shards=""
    for ((i = 0; i < CROPS_SHARDS; i++)); do shards+=" $(q "$OUT/crops/$set.shard$i.h5")"; done
    id=$(submit "crops-$set" "" "$CROPS_SBATCH" "0-$((CROPS_SHARDS - 1))" \
      "$E crops --config $(q "$CROPS_INI") --list $(q "${LIST[$set]}") --name $set --out $(q "$OUT/crops/$set").shard\$SLURM_ARRAY_TASK_ID.h5 --shard auto $VGG_ARG $CROPS_ARGS")
    id=$(submit "crops-merge-$set" "$id" "$MERGE_SBATCH" "" "$E merge crops --out $(q "$OUT/crops/$set.h5")$shards --force")
    crops_done+=":$id"
  done
fi

if has match; then
  M=$MATCH_SRC_SHARDS N=$MATCH_DST_SHARDS parts=""
  for ((j = 0; j < M; j++)); do for ((i = 0; i < N; i++)); do parts+=" $(q "$OUT/match/parts/$j-$i.h5")"; done; done
  id=$(submit match "$crops_done" "$MATCH_SBATCH" "0-$((M * N - 1))" \
    "J=\$((SLURM_ARRAY_TASK_ID / $N)); I=\$((SLURM_ARRAY_TASK_ID % $N)); $E match --config $(q "$MATCH_INI") --src $(q "$OUT/crops/synthetic.h5") --dst $(q "$OUT/crops/real.h5") --out $(q "$OUT/match/parts")/\$J-\$I.h5 --src-shard \$J/$M --dst-shard \$I/$N $MATCH_ARGS")
  match_done=$(submit match-merge "$id" "$MERGE_SBATCH" "" "$E merge match --out $(q "$OUT/match/match.h5")$parts --force")
fi

if has weights; then
  weights_done=$(submit weights "$match_done" "$MERGE_SBATCH" "" \
    "$E weights $(q "$OUT/match/match.h5") --density-png $(q "$OUT/match/density.png") --force")
fi

if has train; then
  # One task, or TRAIN_TASKS ranks started by srun that meet over c10d (SLURM_PROCID, SLURM_NTASKS).
  launch="" dist=""
  if [ "$TRAIN_TASKS" -gt 1 ]; then launch="srun" dist="--distributed"; fi
  submit train "$segment_done:$weights_done" "--ntasks=$TRAIN_TASKS $TRAIN_SBATCH" "" \
    "$launch $E train $dist --config $(q "$TRAIN_INI") --synthetic $(q "${TRAIN_LIST[synthetic]}") --real $(q "${TRAIN_LIST[real]}") --matches $(q "$OUT/match/match.h5") --out $(q "$OUT/train") $VGG_ARG $TRAIN_ARGS" >/dev/null
fi

echo "submit.sh: $(wc -l <"$JOBS") jobs submitted (steps: $STAGES):"
sed 's/^/  /' "$JOBS"
echo "  watch: squeue --me    logs: $OUT/logs/    outputs: $OUT/"
