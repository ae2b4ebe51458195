#!/usr/bin/env bash
# Replays the exchanges recorded from a real MediaMTX (../shared/tools/mediamtx-conformance.py)
# against a fresh mediamtx-sim. Prints "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
script=../shared/tools/mediamtx-conformance.py
[ -f "$script" ] || { echo "conformance: $script not found (it lives in the shared folder beside the repository)" >&2; exit 1; }

swift build --product mediamtx-sim >/dev/null
bin="$(swift build --show-bin-path)/mediamtx-sim"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api=$(port); playback=$(port)
"$bin" --api-port "$api" --playback-port "$playback" >/dev/null 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$api/v3/info', timeout=1)" 2>/dev/null && break
  sleep 0.1
done
python3 "$script" "http://127.0.0.1:$api" "http://127.0.0.1:$playback"
