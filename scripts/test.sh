#!/usr/bin/env bash
# Checks the formatting (.swift-format), builds everything, replays the exchanges recorded from a real MediaMTX against the simulator,
# then runs every test: the Swift suites (the core API suites a second time on PostgreSQL), the web UI in headless chromium
# (screenshots in screenshots/), Schemathesis against the live server (scripts/fuzz.sh), then the release package installed in a
# clean Debian root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
export PATH="$PATH:/opt/swift/usr/bin"
# Formatting first (a second): unformatted code fails the run. Fix with scripts/format.sh.
swift format lint --strict --recursive --configuration .swift-format Sources Tests Package.swift
swift build --build-tests
scripts/conformance.sh
# A throwaway PostgreSQL (free port, temp data directory, stopped at exit) for the catalogue contract tests.
postgres_dir="$(mktemp -u /tmp/mtx-postgres.XXXXXX)"
trap 'scripts/postgres.sh stop "$postgres_dir"' EXIT
MTX_TEST_POSTGRES_URL="$(scripts/postgres.sh start "$postgres_dir")"
export MTX_TEST_POSTGRES_URL
swift test
# The core API flows again on PostgreSQL (TestStack.swift): each stack on a new database of the same server. Without
# MTX_TEST_POSTGRES_URL these tests fail, never skip.
core_suites='APITests\.(CreateSource|CreateSourceValidation|UpdateSource|ReadSource|Asset(Creation|Catalogue|Stream)|HookIngest|StreamEndpoint|EventStream|RoleMatrix|Token|MediaMTXAuth|Audit|AuditCoverage|UIFiles|Hardening|SecretLog|Webhook|CORSAndLockout|Restart|MultiNode|MultiNodeReconciler|RecordingsExport|RecordingSessions)Tests/'
echo "PostgreSQL pass: the core API suites again, on PostgreSQL (MTX_TEST_BACKEND=postgres)"
MTX_TEST_BACKEND=postgres swift test --skip-build --filter "$core_suites"
python3 Tests/browser/test_ui.py
scripts/fuzz.sh
# The release build (once, about 8 minutes on two cores), its .deb installed and run in a clean Debian root.
python3 Tests/package/test_install.py
