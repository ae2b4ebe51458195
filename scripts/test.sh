#!/usr/bin/env bash
# Builds and runs every test, then replays the exchanges recorded from a real MediaMTX against the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="$PATH:/opt/swift/usr/bin"
swift build --build-tests
swift test
scripts/conformance.sh
