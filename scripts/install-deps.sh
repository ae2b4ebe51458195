#!/usr/bin/env bash
# Installs what building and testing need on a Debian machine: the SQLite headers GRDB links against,
# with --test also python3 (the MediaMTX conformance check), ffmpeg (the simulator's segment files), chromium,
# chromedriver and Selenium from PyPI (the web UI's browser tests), debootstrap and systemd (the package test), PostgreSQL (the catalogue contract tests), nginx (the multi-instance test) and Schemathesis from PyPI (scripts/fuzz.sh), and with
# --bench also wrk and GNU time (the load generator and RSS meter of `mtx-bench hooks`).
# The Swift 6 toolchain itself comes from swift.org.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
  [ -x /opt/swift/usr/bin/swift ] && export PATH="$PATH:/opt/swift/usr/bin"
  command -v swift >/dev/null 2>&1 || { echo "install-deps: the Swift 6 toolchain is not on PATH (https://www.swift.org/install/linux/)" >&2; exit 1; }
fi

missing=()
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
if [ "${1:-}" = "--test" ]; then
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  # Chinese glyphs, so the Chinese screenshots can be read (a small font, 1.6 MB).
  [ -d /usr/share/fonts/truetype/wqy ] || missing+=(fonts-wqy-microhei)
  # The package test (Tests/package/test_install.py): a clean Debian root, and the unit's checks.
  command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  # The catalogue contract tests' PostgreSQL server (scripts/postgres.sh).
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  # The multi-instance test's load balancer (packaging/nginx/mtx-companion.conf).
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
fi
if [ "${1:-}" = "--bench" ]; then
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
if [ "${1:-}" = "--test" ] && ! python3 -c "import selenium" 2>/dev/null; then
  echo "install-deps: installing selenium (PyPI)"
  python3 -m pip install -q selenium
fi
# One version of Schemathesis, so that its deterministic inputs stay the same from run to run.
SCHEMATHESIS=4.32.5
if [ "${1:-}" = "--test" ] && [ "$(python3 -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS" ]; then
  echo "install-deps: installing schemathesis $SCHEMATHESIS (PyPI)"
  python3 -m pip install -q "schemathesis==$SCHEMATHESIS"
fi
