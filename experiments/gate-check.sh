#!/usr/bin/env bash
# Does the CI gate raise false alarms, and does it catch a real regression? (issue 14)
#
#   experiments/gate-check.sh [N] [TRANSPORT[=SLOWDOWN]]   # default: 10 runs, sse (2× at the median)
#
# Runs the README's smoke command (the one .ci/run runs and results/baseline came from) N times on
# unchanged code and gates each run against results/baseline with `compare --format gate`, once,
# without .ci/run's retries: every regression verdict here is a false alarm. Then one more run with
# the embedded server slowed by `--debug-slow` (docs/protocol.md, "Gate validation"), which the
# gate must catch, naming that transport. By default the slowdown adds the baseline's own p50 of
# that transport to every tick (`sse=+P50ms`): its median latency doubles. (A factor, `sse=2`,
# multiplies only the server's share of the latency, schedule to write, which at this load is a
# small part of what a client measures: measured here, `sse=2` moved sse's p50 by 15 %.) Prints each verdict, the gated statistic per phase (p50 over the same run's fan-out
# floor p50) across the unchanged runs, and a summary line; exit 0 when there was no false alarm and
# the slowdown was caught, 1 otherwise.
#
# Environment: TICKBENCH (binary, default target/release/tickbench), OUT (default
# results/gate-check; emptied first). About 75 s per run on a 2-core machine; run it quiet.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
slow=${2:-sse}
slowed=${slow%%=*}
bin=${TICKBENCH:-target/release/tickbench}
out=${OUT:-results/gate-check}
[ -x "$bin" ] || { echo "gate-check: $bin missing; build it first: cargo build --release" >&2; exit 2; }
[ -f results/baseline/summary.json ] || { echo "gate-check: no results/baseline" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"

smoke() { "$bin" run --no-tui --clients 200 --duration 4s --warmup 1s --ramp 1s "$@"; }
value() { printf '%s\n' "$1" | sed -n "s/^$2=//p"; }

# Gates run folder $1 (label $2): the verdict line, the Markdown table kept in $out/$2.md.
gate() {
  local dir=$1 label=$2 g
  "$bin" compare results/baseline "$dir" > "$out/$label.md" || true
  g=$("$bin" compare results/baseline "$dir" --format gate || true)
  printf '%-12s verdict=%-10s regressed=%s\n' "$label" "$(value "$g" verdict)" "$(value "$g" regressed)" \
    >> "$out/verdicts.txt"
  tail -n 1 "$out/verdicts.txt"
}

false_alarms=0
for i in $(seq 1 "$n"); do
  echo "unchanged run $i of $n" >&2
  smoke -q --out "$out/unchanged$i" --label "unchanged$i" > /dev/null
  line=$(gate "$out/unchanged$i/latest" "unchanged$i")
  echo "$line"
  case "$line" in *verdict=regression*) false_alarms=$((false_alarms + 1)) ;; esac
done

if [ "$slow" = "$slowed" ]; then
  # 2× at the median: add the baseline's p50 of that transport (ms) to every tick.
  p50=$(python3 -c "import json,sys; s=json.load(open('results/baseline/summary.json')); print(next(t['latency_us']['p50'] for t in s['transports'] if t['name']==sys.argv[1])/1000)" "$slowed")
  slow="$slowed=+${p50}ms"
fi
echo "slowed run (--debug-slow $slow)" >&2
smoke -q --debug-slow "$slow" --out "$out/slowed" --label slowed > /dev/null
line=$(gate "$out/slowed/latest" slowed)
echo "$line"
caught=no
case "$line" in
  *verdict=regression*regressed=*"$slowed"*) caught=yes ;;
esac

echo
echo "p50 / fan-out floor p50 per phase (baseline, then each run; the gate allows +35 %):"
for f in "$out"/unchanged*.md "$out"/slowed.md; do
  awk -F'|' -v run="$(basename "$f" .md)" '
    $3 ~ /latency p50 \/ fan-out floor p50/ {
      gsub(/ /, "", $2); gsub(/ /, "", $4); gsub(/ /, "", $5); gsub(/^ +| +$/, "", $8)
      printf "%-12s %-10s base %-6s cur %-6s %s\n", run, $2, $4, $5, $8 }' "$f"
done
echo
busy=$(cat "$out"/*.md | grep -c '| foreign CPU |' || true)
if [ "$busy" -gt 0 ]; then
  echo "warning: in $busy phases other processes used a quarter or more of the machine's CPU;"
  echo "their latency rows were warnings, not verdicts: run this on a quiet machine"
fi
echo "false alarms: $false_alarms of $n unchanged runs; --debug-slow $slow caught: $caught"
echo "(verdicts in $out/verdicts.txt, tables in $out/*.md)"
[ "$false_alarms" -eq 0 ] && [ "$caught" = yes ]
