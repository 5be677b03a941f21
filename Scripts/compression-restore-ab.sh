#!/usr/bin/env bash
# Scripts/compression-restore-ab.sh [WORK]: restore A/B on the work directory (default /tmp/lethe-bench) of a finished Scripts/benchmark.sh run: the same data
# restored from Lethe with compression (the run's home), Lethe without (a home written with
# compressionMinimumSavingPercent 100) and restic, alternating, cold cache each time.
set -euo pipefail
work=${1:-/tmp/lethe-bench}
cd "$(dirname "$0")/.."
lethe=$(pwd)/.build/release/lethe
data=$work/data
tenants=$(cd "$data" && ls -d tenant-* | sort)
export RESTIC_PASSWORD=bench-password RESTIC_CACHE_DIR="$work/restic-cache"
if [ ! -d "$work/plain-home" ]; then
    LETHE_HOME=$work/plain-home $lethe init --keys "$work/plain-keys" > /dev/null
    LETHE_HOME=$work/plain-home $lethe config set compressionMinimumSavingPercent 100 > /dev/null
    for t in $tenants; do LETHE_HOME=$work/plain-home $lethe tenant add $t --source dir:$data/$t > /dev/null; done
    LETHE_HOME=$work/plain-home $lethe backup --all > /dev/null
fi
echo "compressed store: $(du -sm $work/lethe-home/store | cut -f1) MiB, plain store: $(du -sm $work/plain-home/store | cut -f1) MiB"
t0() { sync; echo 3 > /proc/sys/vm/drop_caches; date +%s.%N; }
for round in 1 2; do
    for variant in lethe-home plain-home restic; do
        rm -rf "$work/ab-restore"
        start=$(t0)
        if [ $variant = restic ]; then
            for t in $tenants; do restic --repo $work/restic/$t restore latest --target $work/ab-restore/$t > /dev/null; done
        else
            for t in $tenants; do LETHE_HOME=$work/$variant $lethe restore $t latest --target $work/ab-restore/$t > /dev/null; done
        fi
        end=$(date +%s.%N)
        echo "round $round $variant $(echo "$end - $start" | bc) s  load $(cut -d' ' -f1 /proc/loadavg)"
    done
done
rm -rf "$work/ab-restore"
