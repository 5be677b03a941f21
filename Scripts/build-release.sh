#!/usr/bin/env bash
# Builds the release `lethe` the way it is deployed and benchmarked: with the Swift runtime and
# Foundation linked into the binary (`--static-swift-stdlib`). Resolving their symbols at every
# start cost about 10 ms a command, a fifth of `lethe snapshots TENANT` at 10,000 tenants
# (docs/benchmarks.md). Static FoundationNetworking links libcurl, hence libcurl4-openssl-dev.
#   Scripts/build-release.sh [swift build options...]      -> .build/release/lethe
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh libssl-dev libsqlite3-dev libcurl4-openssl-dev pkg-config
swift build -c release --static-swift-stdlib --product lethe "$@"
