#!/usr/bin/env bash
# Runs the peer (Python) and Streetlight (criterion) on the same cube in one go and
# prints the ratio. Usage (from the workspace root):
#   PY=/tmp/venv-mk/bin/python bash crates/sl-analytics/benches/emerging_side_by_side.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
peer=$("$PY" benches/emerging_peer.py tests/data/emerging/phl_burglary_1500m_2023_2024.json | awk '/peer_ms/ {print $2}')
cargo bench -p sl-analytics --bench emerging -- --noplot 2>/dev/null | tee /tmp/emerging-bench.txt | grep -A1 -E "^emerging" || true
ours=$(awk '/emerging_phl_1500m_24_months/ {getline; print}' /tmp/emerging-bench.txt | sed -E 's/.*\[[^ ]+ [^ ]+ ([0-9.]+) ([a-zµ]+).*/\1 \2/')
echo "peer (esda + scipy + pymannkendall): ${peer} ms"
echo "streetlight: ${ours}"
"$PY" - "$peer" $ours <<'PY'
import sys
peer = float(sys.argv[1]); v = float(sys.argv[2]); unit = sys.argv[3]
ms = v * {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
print(f"ratio peer/streetlight: {peer / ms:.1f}x")
PY
