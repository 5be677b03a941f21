#!/usr/bin/env bash
# Benchmarks Lethe against restic and borg on the same data, in the same run, and prints a
# Markdown table of times, repository bytes and peak memory, with Lethe/restic ratios.
#
#   Scripts/benchmark.sh [--preset small|tiny|many-files] [--work DIR] [--generator PATH]
#
# Needs the shared data generator (../shared/bench/gen_dataset.py by default) and installs
# restic, borgbackup and GNU time if missing. Release build of Lethe. Each tool gets one
# repository per tenant (restic, borg) or one home with a repository per tenant (Lethe), and
# runs: first backup, unchanged re-run, re-run after `--mutate 5`, full restore of every tenant.
# Caches are warm for every tool alike (the data set fits in memory), and every measurement
# starts after a `sync`, so no tool pays for another's writeback. Not a test: nothing here
# asserts anything; the numbers go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

preset=small
work=/tmp/lethe-bench
generator="$repo/../shared/bench/gen_dataset.py"
while [ $# -gt 0 ]; do
    case "$1" in
        --preset) preset=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --generator) generator=$2; shift 2 ;;
        *) echo "usage: $0 [--preset P] [--work DIR] [--generator PATH]" >&2; exit 2 ;;
    esac
done
[ -f "$generator" ] || { echo "data generator not found: $generator (pass --generator)" >&2; exit 2; }

Scripts/install-dependencies.sh libssl-dev libsqlite3-dev pkg-config restic borgbackup time python3 >&2
swift build -c release >&2
lethe="$repo/.build/release/lethe"

rm -rf "$work"
mkdir -p "$work"
data="$work/data"
python3 "$generator" "$data" --preset "$preset" >&2
tenants=$(cd "$data" && ls -d tenant-* | sort)
export RESTIC_PASSWORD=bench-password BORG_PASSPHRASE=bench-password
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export RESTIC_CACHE_DIR="$work/restic-cache" BORG_BASE_DIR="$work/borg-base"
export LETHE_HOME="$work/lethe-home"

results="$work/results.tsv"
: > "$results"

# measure TOOL PHASE COMMAND...: runs COMMAND under GNU time, appends seconds and peak RSS.
measure() {
    local tool=$1 phase=$2; shift 2
    local log="$work/time-$tool-$phase.log"
    local start end
    # Start every measurement with no dirty pages left by the previous tool's writes.
    sync
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$log.rss" "$@" > "$log" 2>&1 || { echo "$tool $phase failed, see $log" >&2; cat "$log" >&2; exit 1; }
    end=$(date +%s.%N)
    local rss
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log.rss")
    printf '%s\t%s\t%s\t%s\n' "$tool" "$phase" "$(echo "$end - $start" | bc)" "$rss" >> "$results"
}

# per_tenant TOOL PHASE SCRIPT: runs SCRIPT (with $t set) for every tenant, sums the time,
# keeps the largest peak RSS.
per_tenant() {
    local tool=$1 phase=$2 script=$3
    local total=0 peak=0
    for t in $tenants; do
        measure "$tool" "$phase-$t" bash -c "t=$t; $script"
        local line
        line=$(tail -1 "$results")
        total=$(echo "$total + $(echo "$line" | cut -f3)" | bc)
        local rss
        rss=$(echo "$line" | cut -f4)
        [ "$rss" -gt "$peak" ] && peak=$rss
        sed -i '$ d' "$results"
    done
    printf '%s\t%s\t%s\t%s\n' "$tool" "$phase" "$total" "$peak" >> "$results"
}

echo "== set-up" >&2
"$lethe" init --keys "$work/lethe-keys" > /dev/null
for t in $tenants; do "$lethe" tenant add "$t" --source "dir:$data/$t" > /dev/null; done
mkdir -p "$work/borg"
for t in $tenants; do
    restic init --repo "$work/restic/$t" > /dev/null
    borg init --encryption repokey-blake2 "$work/borg/$t" > /dev/null
done

run_round() {
    local phase=$1
    echo "== $phase" >&2
    measure lethe "$phase" "$lethe" backup --all
    per_tenant restic "$phase" 'restic --repo '"$work"'/restic/$t backup --host bench '"$data"'/$t'
    per_tenant borg "$phase" 'borg create '"$work"'/borg/$t::'"$phase"' '"$data"'/$t'
}

run_round first
run_round unchanged
python3 "$generator" "$data" --mutate 5 --round 1 >&2
run_round churn

echo "== restore" >&2
measure lethe restore bash -c 'for t in '"$(echo $tenants)"'; do '"$lethe"' restore $t latest --target '"$work"'/restore-lethe/$t > /dev/null || exit 1; done'
per_tenant restic restore 'restic --repo '"$work"'/restic/$t restore latest --target '"$work"'/restore-restic/$t'
per_tenant borg restore 'mkdir -p '"$work"'/restore-borg/$t && cd '"$work"'/restore-borg/$t && borg extract '"$work"'/borg/$t::churn'

# Check that Lethe's restore is byte-identical to the data it backed up.
for t in $tenants; do
    diff -r --no-dereference "$data/$t" "$work/restore-lethe/$t" > /dev/null || { echo "lethe restore of $t differs from the source" >&2; exit 1; }
done

lethe_bytes=$(du -sb "$work/lethe-home/store" | cut -f1)
restic_bytes=$(du -sb "$work/restic" | cut -f1)
borg_bytes=$(du -sb "$work/borg" | cut -f1)
data_bytes=$(du -sb --exclude=.dataset.json "$data" | cut -f1)

python3 - "$results" "$lethe_bytes" "$restic_bytes" "$borg_bytes" "$data_bytes" "$preset" <<'PY'
import sys, collections
path, lb, rb, bb, db, preset = sys.argv[1:]
rows = collections.defaultdict(dict)
for line in open(path):
    tool, phase, secs, rss = line.rstrip("\n").split("\t")
    rows[phase][tool] = (float(secs), int(rss))
phases = [("first", "first backup"), ("unchanged", "unchanged re-run"), ("churn", "re-run after --mutate 5"), ("restore", "full restore")]
print(f"Data set: gen_dataset.py --preset {preset} ({int(db)/2**20:.0f} MiB). Times in seconds, wall clock; peak RSS in MiB.\n")
print("| phase | lethe | restic | borg | lethe/restic | lethe/borg |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
peak = {"lethe": 0, "restic": 0, "borg": 0}
for key, label in phases:
    r = rows[key]
    for tool in peak: peak[tool] = max(peak[tool], r[tool][1])
    l, s, b = r["lethe"][0], r["restic"][0], r["borg"][0]
    print(f"| {label} | {l:.2f} | {s:.2f} | {b:.2f} | {l/s:.3f} | {l/b:.3f} |")
lb, rb, bb = int(lb), int(rb), int(bb)
print(f"| repository bytes (MiB) | {lb/2**20:.0f} | {rb/2**20:.0f} | {bb/2**20:.0f} | {lb/rb:.3f} | {lb/bb:.3f} |")
print(f"| peak RSS (MiB) | {peak['lethe']/1024:.0f} | {peak['restic']/1024:.0f} | {peak['borg']/1024:.0f} | {peak['lethe']/peak['restic']:.3f} | {peak['lethe']/peak['borg']:.3f} |")
PY
