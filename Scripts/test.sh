#!/usr/bin/env bash
# Runs every test of Lethe: unit tests with published vectors, interoperability with the
# openssl command, and end-to-end tests of the real `lethe` binary.
# Installs what it needs first; works on a machine that has only the Swift toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/install-dependencies.sh libssl-dev libsqlite3-dev pkg-config openssl sqlite3 tar golang-go golang-golang-x-mod-dev

swift build --build-tests
swift test --skip-build "$@"
