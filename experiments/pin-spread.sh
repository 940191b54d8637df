#!/usr/bin/env bash
# The run-to-run spread of latency with and without --pin (issue 14): N runs of one SSE phase at
# 100 clients each way, alternating (unpinned, pinned, unpinned, …) so a slow drift of the
# machine falls on both sides, then min / median / max / stdev of p50 and p99 per way.
#
#   experiments/pin-spread.sh [N]          # N runs each way, default 10 (about 20 s per run)
#
# Environment: TICKBENCH (binary, default target/release/tickbench), OUT (default
# results/pin-spread; emptied first), ARGS (extra `run` flags). Run it on a quiet machine: the
# spread is the figure, and other work on the cores is spread too.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
bin=${TICKBENCH:-target/release/tickbench}
out=${OUT:-results/pin-spread}
[ -x "$bin" ] || { echo "pin-spread: $bin missing; build it first: cargo build --release" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"
# shellcheck disable=SC2086
run() { "$bin" run --no-tui -q --transports sse --clients 100 --no-fanout-floor ${ARGS:-} "$@"; }
for i in $(seq 1 "$n"); do
  for way in unpinned pinned; do
    flag=()
    [ "$way" = pinned ] && flag=(--pin)
    echo "run $i of $n, $way" >&2
    run "${flag[@]}" --out "$out/$way-$i" --label "$way$i" >/dev/null
    "$bin" show "$out/$way-$i/latest" --format csv | awk -F, -v way="$way" -v i="$i" '
      NR == 1 { for (c = 1; c <= NF; c++) col[$c] = c; next }
      $col["transport"] == "sse" {
        print way, i, $col["latency_p50_us"], $col["latency_p99_us"], $col["saturated"] }' \
      >> "$out/runs.txt"
  done
done
echo
echo "sse, 100 clients, $n runs each way (µs; raw rows in $out/runs.txt: way run p50 p99 saturated)"
printf '%-9s %-4s %8s %8s %8s %8s %7s\n' way stat min median max stdev 'cv %'
for way in unpinned pinned; do
  for field in 3 4; do
    name=$([ "$field" = 3 ] && echo p50 || echo p99)
    awk -v way="$way" -v f="$field" '$1 == way { print $f }' "$out/runs.txt" | sort -n | awk \
      -v way="$way" -v name="$name" '
      { v[NR] = $1; s += $1; ss += $1 * $1 }
      END {
        if (NR == 0) exit
        m = s / NR; sd = (NR > 1) ? sqrt((ss - NR * m * m) / (NR - 1)) : 0
        med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%-9s %-4s %8d %8d %8d %8.0f %7.1f\n", way, name, v[1], med, v[NR], sd, 100 * sd / m
      }'
  done
done
echo "saturated runs: $(awk '$5 == "true"' "$out/runs.txt" | wc -l) of $(wc -l < "$out/runs.txt")"
