#!/usr/bin/env bash
# Builds everything, replays the exchanges recorded from a real MediaMTX against the simulator,
# then runs every test: the Swift suites, the web UI in headless chromium (screenshots in screenshots/), then
# Schemathesis against the live server (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
export PATH="$PATH:/opt/swift/usr/bin"
swift build --build-tests
scripts/conformance.sh
swift test
python3 Tests/browser/test_ui.py
scripts/fuzz.sh
