#!/usr/bin/env bash
# The scale-out figures of the README ("Measured: one machine split in two, and what a cluster
# run costs"): crops, exact match and training with 1 process vs 2 processes (shards or
# --distributed ranks) on this machine, and the memory of one match job with 1, 4 and 16 target
# shards on 1M x 1M crops. Run it with nothing else running; it takes about 20 minutes on 2 cores
# and needs ~5 GB under $EPE_MEASURE_DIR (default /tmp/epe-measure, removed at the end).
#   pipelines/measure-scaleout.sh [crops] [match] [train] [memory]     default: all four
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/cmake/bootstrap.sh"
E=$EPE_BUILD_DIR/apps/epe/epe
W=${EPE_MEASURE_DIR:-/tmp/epe-measure}
PARTS=("$@")
[[ ${#PARTS[@]} -eq 0 ]] && PARTS=(crops match train memory)
T=(/usr/bin/time -f "  wall %e s, peak %M KiB")
mkdir -p "$W/c" "$W/m" "$W/t" "$W/b"
trap 'rm -rf "$W"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

for part in "${PARTS[@]}"; do
  case $part in
  crops)
    "$E" demo-data --out "$W/c/d" --images 12 --height 526 --width 957 --quiet
    C=(crops --config "$EPE_ROOT/pipelines/crops.ini" --list "$W/c/d/real.csv" -q)
    echo "== crops (grid), 12 frames of 526x957: 1 process x 2 threads"
    "${T[@]}" "$E" "${C[@]}" --out "$W/c/one.h5" --threads 2
    echo "== crops: 2 processes x 1 thread (--shard 0/2, 1/2), then epe merge crops"
    s=$(now)
    "${T[@]}" "$E" "${C[@]}" --out "$W/c/s0.h5" --shard 0/2 --threads 1 &
    "${T[@]}" "$E" "${C[@]}" --out "$W/c/s1.h5" --shard 1/2 --threads 1 &
    wait
    m=$(now)
    "$E" merge crops --out "$W/c/merged.h5" "$W/c/s0.h5" "$W/c/s1.h5" >/dev/null 2>&1
    echo "  two processes: $(secs "$s" "$m") s, merge $(secs "$m" "$(now)") s"
    "$E" export "$W/c/one.h5" --out "$W/c/a" --name x >/dev/null 2>&1
    "$E" export "$W/c/merged.h5" --out "$W/c/b" --name x >/dev/null 2>&1
    cmp -s "$W/c/a/crop_x.npz" "$W/c/b/crop_x.npz" && echo "  merged store equals the one-process store"
    ;;
  match)
    "$E" bench match --n 100000 --no-exact --work "$W/m" --recall-sample 10 >/dev/null 2>&1
    M=(match --src "$W/m/src.h5" --dst "$W/m/dst.h5" --index exact -q)
    echo "== match --index exact, 100K x 100K: 1 process x 2 threads"
    "${T[@]}" "$E" "${M[@]}" --out "$W/m/one.h5" --threads 2 2>&1 | grep -E "wall|memory"
    echo "== match: 2 processes x 1 thread (--dst-shard 0/2, 1/2), then epe merge match"
    s=$(now)
    "${T[@]}" "$E" "${M[@]}" --out "$W/m/p0.h5" --dst-shard 0/2 --threads 1 2>&1 | grep -E "wall|memory" &
    "${T[@]}" "$E" "${M[@]}" --out "$W/m/p1.h5" --dst-shard 1/2 --threads 1 2>&1 | grep -E "wall|memory" &
    wait
    m=$(now)
    "$E" merge match --out "$W/m/merged.h5" "$W/m/p0.h5" "$W/m/p1.h5" >/dev/null 2>&1
    echo "  two processes: $(secs "$s" "$m") s, merge $(secs "$m" "$(now)") s"
    "$E" export "$W/m/one.h5" --out "$W/m/a" --name x >/dev/null 2>&1
    "$E" export "$W/m/merged.h5" --out "$W/m/b" --name x >/dev/null 2>&1
    cmp -s "$W/m/a/matched_crops_x.csv" "$W/m/b/matched_crops_x.csv" && echo "  merged matches equal the one-process matches"
    ;;
  train)
    "$E" demo-data --out "$W/t/d" --images 8 --height 256 --width 384 --quiet
    A=(train --config "$EPE_ROOT/pipelines/train.ini" --sampling independent --synthetic "$W/t/d/synthetic.csv"
      --real "$W/t/d/real.csv" --steps 40 --log-every 10 --sample-every 1000 --checkpoint-every 1000 --force)
    echo "== train, 40 steps: 1 process (batch 1 with 1 and 2 threads; batch 2 with 2 threads)"
    "$E" "${A[@]}" --out "$W/t/a" --threads 1 2>&1 | grep "^train:"
    "$E" "${A[@]}" --out "$W/t/b" --threads 2 2>&1 | grep "^train:"
    "$E" "${A[@]}" --out "$W/t/c" --threads 2 --batch 2 2>&1 | grep "^train:"
    echo "== train --distributed: 2 Gloo ranks x 1 thread, batch 1 each"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    for r in 0 1; do
      RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$E" "${A[@]}" --out "$W/t/d2" --threads 1 \
        --distributed 2>&1 | grep "^train:" &
    done
    wait
    ;;
  memory)
    # The bench writes both stores first; it is stopped once they are complete.
    "$E" bench match --n 1000000 --no-exact --work "$W/b" --recall-sample 10 >/dev/null 2>&1 &
    bench=$!
    while [[ ! -f $W/b/dst.h5 || $(stat -c %s "$W/b/dst.h5") -lt $(stat -c %s "$W/b/src.h5" 2>/dev/null || echo 1) ]]; do
      sleep 2
    done
    sleep 5
    kill $bench 2>/dev/null || true
    wait $bench 2>/dev/null || true
    # Sources: a slice holding at least one full block (the memory of a job with every source).
    for cfg in "1 200" "4 15" "16 60"; do
      set -- $cfg
      echo "== 1M x 1M exact, --dst-shard 0/$1 --src-shard 0/$2"
      "${T[@]}" "$E" match --src "$W/b/src.h5" --dst "$W/b/dst.h5" --out "$W/b/p$1.h5" --index exact \
        --src-shard "0/$2" --dst-shard "0/$1" -q 2>&1 | grep -E "wall|memory"
    done
    ;;
  *) echo "measure-scaleout: unknown part '$part' (crops match train memory)" >&2; exit 1 ;;
  esac
done
