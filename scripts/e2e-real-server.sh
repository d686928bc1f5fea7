#!/usr/bin/env bash
# The browser end-to-end test (web/e2e/run.mjs) against the real server:
#   scripts/e2e-real-server.sh BINARY STORE
# Adds a fresh analyst to STORE as `make demo` does (a generated password, which the
# user must replace at the first sign-in: the test does that in the browser), and a
# fresh admin the same way (the admin page's step adds an account to STORE), serves
# STORE on a free loopback port, waits for /api/health, runs the test in headless
# Chromium, and stops the server whatever happens. Exit status: the test's.
# Screenshots: web/e2e/artifacts/.
set -euo pipefail
bin=${1:?usage: e2e-real-server.sh BINARY STORE}
db=${2:?usage: e2e-real-server.sh BINARY STORE}
cd "$(dirname "$0")/.."

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "error: no Chromium at ${CHROMIUM:-/usr/bin/chromium}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM" >&2
  exit 1
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user="e2e-$port"
password=$("$bin" user add "$user" --role analyst --db "$db" --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["password"])')
admin="e2e-admin-$port"
admin_password=$("$bin" user add "$admin" --role admin --db "$db" --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["password"])')

log=$(mktemp)
"$bin" serve --db "$db" --addr "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/api/health', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "error: the server stopped before answering:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done

cd web
E2E_BASE_URL="http://127.0.0.1:$port" E2E_USER="$user" E2E_PASSWORD="$password" \
  E2E_ADMIN_USER="$admin" E2E_ADMIN_PASSWORD="$admin_password" npm run --silent e2e
