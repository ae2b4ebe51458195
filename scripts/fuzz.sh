#!/usr/bin/env bash
# Schemathesis against the live server and the MediaMTX simulator: every operation of docs/openapi.yaml as each role,
# no 5xx, no answer the document does not allow, no crash (Tests/fuzz/fuzz.py; reports in fuzz-reports/).
# Needs `scripts/install-deps.sh --test` (Schemathesis from PyPI). Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
swift build
python3 Tests/fuzz/fuzz.py
