#!/usr/bin/env bash
# Formats every Swift file as .swift-format says (4 spaces, 150 columns); scripts/test.sh (and so CI) fails on code
# that is not formatted this way.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
swift format --in-place --recursive --configuration .swift-format Sources Tests Package.swift
