#!/bin/sh
# Runs the given fuzz targets one after another, each for $SECS seconds (default 600) in a single
# process, logging to logs/<target>.log. It runs copies of the built binaries (target/snap/), so a
# rebuild while the runs go on (the path dependencies are edited by others) cannot change or break
# them. Build first: RUSTC_BOOTSTRAP=1 cargo fuzz build -O
#
#   ./run-all.sh ndjson sse multipart iframe batch query
set -u
cd "$(dirname "$0")"
SECS=${SECS:-600}
mkdir -p logs target/snap
for t in "$@"; do
  cp "target/x86_64-unknown-linux-gnu/release/$t" target/snap/ || exit 1
done
for t in "$@"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "$t start $(date -u +%H:%M:%S)" >> logs/times.txt
  # -malloc_limit_mb=1: a parser that buffers a never-ending frame past MAX_FRAME (256 KiB)
  # makes an allocation over 1 MiB in the targets' growth mode and is reported as a crash.
  "target/snap/$t" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$SECS" -malloc_limit_mb=1 -rss_limit_mb=2048 -print_final_stats=1 \
    "corpus/$t" "seeds/$t" > "logs/$t.log" 2>&1
  rc=$?
  echo "$t end $(date -u +%H:%M:%S) rc=$rc" >> logs/times.txt
done
