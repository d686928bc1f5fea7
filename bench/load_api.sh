#!/usr/bin/env bash
# The API under load (issue 5; figures in docs/BENCHMARKS.md, "API under load").
#
# Starts `streetlight serve` over a store, adds an analyst, logs in, and for each
# endpoint below: times the first (cold) request, sends one warm-up request (a cache
# hit from then on), then loads it with CONNECTIONS concurrent connections for DURATION,
# once without and once with `Accept-Encoding: gzip`. Prints one line per run, checks
# the audit chain afterwards and says how many audit records the run added. The server
# caches answers by request, so the load measures the steady state: session check,
# cache lookup, audit record and sending the answer, every request.
#
# Usage: bench/load_api.sh DB [TOOL]
#   DB    a store holding the dataset (use a copy: the run adds a user, a session and
#         one audit record per request)
#   TOOL  wrk or oha, a path or a name on PATH (default: wrk)
# Environment:
#   BIN          the streetlight binary (default: $CARGO_TARGET_DIR/release/streetlight,
#                else target/release/streetlight; build with
#                `cargo build --release --bin streetlight`)
#   ADDR         127.0.0.1:8181        CONNECTIONS  100      DURATION  30s
#   DATASET      philadelphia-ppd      ENCODINGS    "identity gzip"
#   ENDPOINTS    lines "LABEL PATH", PATH under /api/datasets/$DATASET/ (default below)
#   THREADS      load generator threads (default: nproc)
set -euo pipefail

DB=${1:?usage: bench/load_api.sh DB [TOOL]}
TOOL=${2:-wrk}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/streetlight}
ADDR=${ADDR:-127.0.0.1:8181}
CONNECTIONS=${CONNECTIONS:-100}
DURATION=${DURATION:-30s}
DATASET=${DATASET:-philadelphia-ppd}
ENCODINGS=${ENCODINGS:-identity gzip}
THREADS=${THREADS:-$(nproc)}
ENDPOINTS=${ENDPOINTS:-"aggregate-all aggregate.geojson?cell_size=250&nonzero=true
aggregate-burglary-2024 aggregate.geojson?category=residential_burglary&from=2024-01-01&to=2025-01-01&cell_size=250&nonzero=true
forecast-historical forecast.geojson?category=residential_burglary&cell_size=150&model=historical&cells=flagged
forecast-glm forecast.geojson?category=residential_burglary&cell_size=150&model=glm&cells=flagged"}

[ -f "$DB" ] || { echo "no store at $DB" >&2; exit 2; }
[ -x "$BIN" ] || { echo "no binary at $BIN: cargo build --release --bin streetlight" >&2; exit 2; }
TOOL_PATH=$(command -v "$TOOL") || { echo "no load tool $TOOL (apt-get install wrk, or cargo install oha)" >&2; exit 2; }
case $(basename "$TOOL_PATH") in
wrk) KIND=wrk ;;
oha) KIND=oha ;;
*) echo "TOOL must be wrk or oha, not $TOOL" >&2; exit 2 ;;
esac

WORK=$(mktemp -d)
SERVER=
stop_server() {
    if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then
        kill -INT "$SERVER"
        wait "$SERVER" 2>/dev/null || true
    fi
    SERVER=
}
trap 'stop_server; rm -rf "$WORK"' EXIT

audit_records() {
    "$BIN" audit verify --db "$DB" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["records"] if d["ok"] else "BROKEN")'
}

echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tool: $TOOL_PATH ($("$TOOL_PATH" --version 2>&1 | head -1)); $CONNECTIONS connections, $DURATION per run$([ $KIND = wrk ] && echo ", $THREADS threads")"
echo "binary: $BIN; store: $DB"

# A password of our own: a generated one must be changed before the first request.
NAME="load-$(date +%s)"
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
echo "$PASSWORD" | "$BIN" user add "$NAME" --role analyst --password-stdin --db "$DB" >/dev/null
BEFORE=$(audit_records)

# A session of its own, so that signals meant for this script's process group do not
# reach the server; the EXIT trap stops it.
setsid "$BIN" serve --db "$DB" --addr "$ADDR" >"$WORK/serve.log" 2>&1 </dev/null &
SERVER=$!
BASE="http://$ADDR"
for _ in $(seq 100); do
    curl -sf "$BASE/api/health" >/dev/null && break
    sleep 0.2
done
curl -sf "$BASE/api/health" >/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
curl -sf -c "$WORK/jar" -H 'content-type: application/json' \
    -d "{\"name\":\"$NAME\",\"password\":\"$PASSWORD\"}" "$BASE/api/auth/login" >/dev/null
TOKEN=$(awk '$6 == "sl_session" {print $7}' "$WORK/jar")
COOKIE="Cookie: sl_session=$TOKEN"

cat >"$WORK/report.lua" <<'EOF'
done = function(summary, latency, requests)
    local e = summary.errors
    local s = summary.duration / 1e6
    io.write(string.format(
        "RESULT %d %.1f %.2f %.2f %.2f %.2f %d %d\n",
        summary.requests, summary.requests / s,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000,
        e.status, e.connect + e.read + e.write + e.timeout))
end
EOF

# One load run: prints "requests req/s p50 p90 p99 max non-2xx other-errors". Neither
# tool decompresses: `identity` sends no Accept-Encoding (oha would send one by default),
# `gzip` sends `Accept-Encoding: gzip` as browsers do.
load() {
    local url=$1 encoding=$2
    local accept=()
    [ "$encoding" = gzip ] && accept=(-H "Accept-Encoding: gzip")
    if [ $KIND = wrk ]; then
        "$TOOL_PATH" -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s \
            -s "$WORK/report.lua" -H "$COOKIE" "${accept[@]}" "$url" >"$WORK/out.txt"
        grep '^RESULT' "$WORK/out.txt" | cut -d' ' -f2-
    else
        "$TOOL_PATH" -c"$CONNECTIONS" -z"$DURATION" -w --no-tui --output-format json --disable-compression \
            -H "$COOKIE" "${accept[@]}" "$url" >"$WORK/out.json"
        python3 - "$WORK/out.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
n = sum(codes.values())
non2xx = sum(v for k, v in codes.items() if not k.startswith("2"))
errors = sum(d.get("errorDistribution", {}).values())
ms = lambda v: (v or 0) * 1000
print(f"{n} {s['requestsPerSec']:.1f} {ms(p['p50']):.2f} {ms(p['p90']):.2f} "
      f"{ms(p['p99']):.2f} {ms(s['slowest']):.2f} {non2xx} {errors}")
EOF
    fi
}

echo
while read -r label path; do
    [ -n "$path" ] && echo "$label: GET /api/datasets/$DATASET/$path"
done <<<"$ENDPOINTS"

printf '\n%-24s %6s %8s %9s %8s %9s %8s\n' endpoint status cold_s bytes gzip_B cache warm_s
while read -r label path; do
    [ -n "$path" ] || continue
    url="$BASE/api/datasets/$DATASET/$path"
    cold=$(curl -s -b "$WORK/jar" -o "$WORK/body" -D "$WORK/h1" -w '%{http_code} %{time_total}' "$url")
    warm=$(curl -s -b "$WORK/jar" -o /dev/null -D "$WORK/h2" -w '%{time_total}' "$url")
    gz=$(curl -s -b "$WORK/jar" -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$url")
    cache() { tr -d '\r' <"$1" | awk -F': ' 'tolower($1)=="x-streetlight-cache" {print $2}'; }
    printf '%-24s %6s %8.2f %9s %8s %9s %8.4f\n' "$label" "${cold% *}" "${cold#* }" \
        "$(stat -c %s "$WORK/body")" "$gz" "$(cache "$WORK/h1")/$(cache "$WORK/h2")" "$warm"
    [ "${cold% *}" = 200 ] || { echo "the first request failed: $(cat "$WORK/body")" >&2; exit 1; }
done <<<"$ENDPOINTS"

printf '\n%-24s %-8s %8s %8s %8s %8s %8s %8s %7s %6s\n' endpoint encoding requests req/s p50_ms p90_ms p99_ms max_ms non2xx errors
while read -r label path; do
    [ -n "$path" ] || continue
    for encoding in $ENCODINGS; do
        read -r n rps p50 p90 p99 max non2xx errors <<<"$(load "$BASE/api/datasets/$DATASET/$path" "$encoding")"
        printf '%-24s %-8s %8s %8s %8s %8s %8s %8s %7s %6s\n' "$label" "$encoding" \
            "$n" "$rps" "$p50" "$p90" "$p99" "$max" "$non2xx" "$errors"
    done
done <<<"$ENDPOINTS"

stop_server
AFTER=$(audit_records)
echo
echo "audit verify: $("$BIN" audit verify --db "$DB" | head -1)"
echo "audit records: $BEFORE before the server started, $AFTER after: $((AFTER - BEFORE)) added (login, cold, warm-up and loaded requests)"
