#!/usr/bin/env bash
# Replays the exchanges recorded from a real MediaMTX (../shared/tools/mediamtx-conformance.py) against fresh
# mediamtx-sim processes: three at once, as three nodes (own ports, own state), the script run against each in turn,
# so that one node's changes showing up on another would fail it. Prints "N passed, M failed" per node; exits non-zero
# on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
script=../shared/tools/mediamtx-conformance.py
[ -f "$script" ] || { echo "conformance: $script not found (it lives in the shared folder beside the repository)" >&2; exit 1; }

swift build --product mediamtx-sim >/dev/null
bin="$(swift build --show-bin-path)/mediamtx-sim"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
apis=(); playbacks=()
for node in 1 2 3; do
  api=$(port); playback=$(port)
  "$bin" --api-port "$api" --playback-port "$playback" --record-path "./recordings/node$node/%path/%Y-%m-%d_%H-%M-%S-%f" >/dev/null 2>&1 &
  pids+=($!)
  apis+=("$api"); playbacks+=("$playback")
done
for api in "${apis[@]}"; do
  for _ in $(seq 1 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$api/v3/info', timeout=1)" 2>/dev/null && break
    sleep 0.1
  done
done
for i in 0 1 2; do
  echo "node $((i + 1)):"
  python3 "$script" "http://127.0.0.1:${apis[$i]}" "http://127.0.0.1:${playbacks[$i]}"
done
