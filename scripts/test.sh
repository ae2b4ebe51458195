#!/usr/bin/env bash
# Builds everything, replays the exchanges recorded from a real MediaMTX against the simulator,
# then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
export PATH="$PATH:/opt/swift/usr/bin"
swift build --build-tests
scripts/conformance.sh
swift test
