#!/usr/bin/env bash
# Runs the companion on configs/config.${MTX_COMPANION_ENV:-development}.yaml (SQLite under ./data).
# Extra arguments go to `mtx-companion serve`, e.g. scripts/run.sh --env production.
# SWIFT_CONFIGURATION=release builds an optimised binary (slower to build the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="$PATH:/opt/swift/usr/bin"
configuration="${SWIFT_CONFIGURATION:-debug}"
swift build -c "$configuration" --product mtx-companion
exec "$(swift build -c "$configuration" --show-bin-path)/mtx-companion" serve "$@"
