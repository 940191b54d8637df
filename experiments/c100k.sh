#!/usr/bin/env bash
# C100K on one machine: nats-server, one feed, EDGES edges on distinct loopback addresses
# (127.0.1.x), AGENTS load agents (each its own file limit and source addresses) and the
# coordinator (`tickbench run --agents`); one edge is killed (SIGKILL, no bye) at KILL_AT and its
# clients fail over to the others by cursor. Prints the C100K table from agents.json and
# summary.json. Validate small first: CLIENTS=600 EDGES=2 AGENTS=2 DURATION=30s KILL_AT=20 ./experiments/c100k.sh
#
# Parameters (environment): CLIENTS (100000), EDGES (7), AGENTS (7), DURATION (300s, measured),
# RAMP (60s), WARMUP (10s), KILL_AT (seconds after the coordinator starts; 0 = no kill; default
# the middle of the measured window), SYMBOLS (500), RATE (10), WATCH (10), TRANSPORTS (sse),
# BIN (target/release/tickbench), OUT (results), NATS_PORT (4333), WORKERS (per agent, 1).
# Load: watchlists are drawn by symbol activity, so a 10-symbol watchlist gets ~26 % of the
# market's ticks: RATE=10 asks 2.6 ticks/s per client (260,000 deliveries/s at 100,000 clients,
# beyond a 2-vCPU machine: it falls behind, 0 loss); RATE=1 is what one such machine sustains.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${CLIENTS:-100000}
EDGES=${EDGES:-7}
AGENTS=${AGENTS:-7}
DURATION=${DURATION:-300s}
RAMP=${RAMP:-60s}
WARMUP=${WARMUP:-10s}
SYMBOLS=${SYMBOLS:-500}
RATE=${RATE:-10}
WATCH=${WATCH:-10}
TRANSPORTS=${TRANSPORTS:-sse}
BIN=${BIN:-target/release/tickbench}
OUT=${OUT:-results}
NATS_PORT=${NATS_PORT:-4333}
WORKERS=${WORKERS:-1}
secs() { local d=$1; case $d in *m) echo $(( ${d%m} * 60 ));; *s) echo "${d%s}";; *) echo "$d";; esac; }
KILL_AT=${KILL_AT:-$(( 2 + $(secs "$RAMP") + $(secs "$WARMUP") + $(secs "$DURATION") / 2 ))}

[ -x "$BIN" ] || { echo "c100k: no $BIN (cargo build --release, or BIN=target/debug/tickbench)" >&2; exit 1; }
command -v nats-server >/dev/null || { echo "c100k: nats-server missing: apt-get install -y nats-server" >&2; exit 1; }

# Each process its own file limit: an edge holds its clients (plus the ones that fail over), an
# agent its clients.
PER_EDGE=$(( CLIENTS / (EDGES > 1 ? EDGES - 1 : 1) + 1000 ))
PER_AGENT=$(( CLIENTS / AGENTS + 1000 ))
HARD=$(ulimit -Hn)
for need in $PER_EDGE $PER_AGENT; do
  if [ "$need" -gt "$HARD" ]; then
    echo "c100k: needs $need open files per process, the hard limit is $HARD (raise it: ulimit -Hn, or run as root)" >&2
    exit 1
  fi
done

WORK=$(mktemp -d /tmp/c100k.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

NATS=nats://127.0.0.1:$NATS_PORT
nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$WORK/js" >"$WORK/nats.log" 2>&1 &
NATS_PID=$!; PIDS+=("$NATS_PID")
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT) 2>/dev/null && break; sleep 0.1; done

"$BIN" feed --nats "$NATS" --fresh --symbols "$SYMBOLS" --rate "$RATE" >"$WORK/feed.log" 2>&1 &
FEED_PID=$!; PIDS+=("$FEED_PID")
sleep 1

TARGETS=()
EDGE_PIDS=()
for i in $(seq 1 "$EDGES"); do
  addr=127.0.1.$i
  ( ulimit -n "$PER_EDGE"; exec "$BIN" serve --feed "$NATS" --addr "$addr:8080" ) >"$WORK/edge$i.log" 2>&1 &
  EDGE_PIDS+=($!); PIDS+=($!)
  TARGETS+=("http://$addr:8080")
done
for t in "${TARGETS[@]}"; do
  for _ in $(seq 100); do curl -fsS "$t/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
done

for i in $(seq 1 "$AGENTS"); do
  # Agent i connects from 127.0.2.(8i-7) .. 127.0.2.(8i): 8 × 28k ports per edge.
  first=$(( 8 * i - 7 )); last=$(( 8 * i ))
  ( ulimit -n "$PER_AGENT"; exec "$BIN" agent --nats "$NATS" --name "agent-$i" \
      --source-addrs "127.0.2.$first-127.0.2.$last" ) >"$WORK/agent$i.log" 2>&1 &
  PIDS+=($!)
done

if [ "$KILL_AT" -gt 0 ]; then
  ( sleep "$KILL_AT"; kill -9 "${EDGE_PIDS[0]}" 2>/dev/null && echo "c100k: killed edge 1 (${TARGETS[0]}) at ${KILL_AT}s" >&2 ) &
fi

LIST=$(IFS=,; echo "${TARGETS[*]}")
DIR=$("$BIN" run --agents "$AGENTS" --nats "$NATS" --targets "$LIST" \
  --proc "feed=$FEED_PID" --proc "nats=$NATS_PID" \
  --clients "$CLIENTS" --transports "$TRANSPORTS" --watch "$WATCH" \
  --duration "$DURATION" --ramp "$RAMP" --warmup "$WARMUP" \
  --workers "$WORKERS" --no-fanout-floor --no-bare-http --label "c100k-$CLIENTS" --out "$OUT" | tail -1)
echo "c100k: results in $DIR (logs in $WORK)" >&2

python3 - "$DIR" "$CLIENTS" "$EDGES" "$AGENTS" <<'PY'
import json, sys
d, clients, edges, agents = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = json.load(open(f"{d}/summary.json")); b = json.load(open(f"{d}/agents.json"))
print(f"| clients | edges | agents | transport | deliveries/s | gaps | dups | out of order | gap notices | receiving at end | p50 ms | p99 ms | takeovers | takeover p50 / p99 / max ms |")
print("|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
for t in s["transports"]:
    k = t.get("takeover") or {}
    print(f"| {clients} | {edges} | {agents} | {t['name']} | {t['delivered']/max(t['duration_s'],1e-9):,.0f} | {t['gaps']} | {t['duplicates']} | {t['out_of_order']} | {t['gap_notices']} | {t['clients_receiving']} | {t['latency_us']['p50']/1000:.2f} | {t['latency_us']['p99']/1000:.2f} | {k.get('count',0)} | {k.get('ms_p50',0):.0f} / {k.get('ms_p99',0):.0f} / {k.get('ms_max',0):.0f} |")
print("\n| process | clients | CPU s | RSS MiB (peak) | RSS per client/subscriber KB | status |")
print("|---|--:|--:|--:|--:|---|")
for e in b["edges"]:
    p = e.get("process") or {}
    print(f"| edge {e['target']} | {e['clients']} | {p.get('cpu_s',0):.1f} | {p.get('rss_peak_bytes',0)/2**20:.1f} | {p.get('rss_per_subscriber_bytes',0)/1000:.1f} | |")
for a in b["agents"]:
    print(f"| {a['agent']} | {a['clients']} | {a['cpu_s']:.1f} | {a['rss_bytes']/2**20:.1f} | {a['rss_per_client_bytes']/1000:.1f} | {a['status']} |")
for n, p in (b.get("processes") or {}).items():
    if p: print(f"| {n} | | {p['cpu_s']:.1f} | {p['rss_peak_bytes']/2**20:.1f} | | |")
for l in b.get("lost", []): print(f"\n**{l}**")
PY
