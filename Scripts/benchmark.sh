#!/usr/bin/env bash
# Benchmarks Lethe against restic and borg on the same data, in the same run, and prints
# Markdown tables of times, repository bytes and peak memory, with ratios to the other tools
# and to a floor (what moving the bytes costs with no backup tool at all).
#
#   Scripts/benchmark.sh [--store local|s3] [--preset small|tiny|many-files] [--work DIR] [--generator PATH]
#
# Needs the shared data generator (../shared/bench/gen_dataset.py by default) and installs
# restic, borgbackup and GNU time if missing. Release build of Lethe. Each tool gets one
# repository per tenant (restic, borg) or one home with a repository per tenant (Lethe), and
# runs: first backup, unchanged re-run, re-run after `--mutate 5`, full restore of every tenant.
# With a local store, restic also backs up a second set of repositories with `--compression off`
# (the three backup rounds, not timed against Lethe), for the repository-bytes comparison.
#
# --store local (the default): repositories in the work directory. Floors: `cp -r` of the data
# set, `tar | openssl enc -aes-256-ctr` into one file, and `openssl enc -d | tar x` back.
# --store s3: every repository on one SeaweedFS on loopback (Scripts/seaweedfs.sh; a running one
# of this checkout is used, else one is started and stopped at the end), Lethe with
# `--store s3://…`, restic with its S3 backend; borg has no S3 backend and is left out. Floors:
# the raw PutObject rate of that SeaweedFS, measured with boto3 (Scripts/s3-bench.py put-rate:
# 16 MiB objects of random bytes from memory, 1, 2 and 4 threads) before and after the tools
# run, and the raw GetObject rate of those objects, read back cold.
#
# Every timed phase starts with a cold page cache: `sync`, then `echo 3 > /proc/sys/vm/drop_caches`
# (needs root; without it the script says so and the caches stay warm). restic and borg run once
# per tenant, each run with a cold cache; their times are summed. Not a test: nothing here asserts
# anything; the numbers go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

store=local
preset=small
work=/tmp/lethe-bench
generator="$repo/../shared/bench/gen_dataset.py"
while [ $# -gt 0 ]; do
    case "$1" in
        --store) store=$2; shift 2 ;;
        --preset) preset=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --generator) generator=$2; shift 2 ;;
        *) echo "usage: $0 [--store local|s3] [--preset P] [--work DIR] [--generator PATH]" >&2; exit 2 ;;
    esac
done
case "$store" in local|s3) ;; *) echo "--store is local or s3" >&2; exit 2 ;; esac
[ -f "$generator" ] || { echo "data generator not found: $generator (pass --generator)" >&2; exit 2; }

Scripts/install-dependencies.sh libssl-dev libsqlite3-dev pkg-config restic borgbackup time bc openssl tar python3 >&2
if [ "$store" = s3 ]; then
    Scripts/install-dependencies.sh python3-pip >&2
    python3 -c "import boto3" 2>/dev/null || PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check boto3 >&2 \
        || PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --break-system-packages boto3 >&2
fi
Scripts/build-release.sh >&2
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
load_before=$(uptime)

cold_cache=yes
if ! { sync && echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then
    cold_cache=no
    echo "cannot drop the page cache (not root?): every phase runs with warm caches" >&2
fi

# drop_caches: no dirty pages left by the previous tool's writes, nothing of the data set or a
# repository in memory.
drop_caches() {
    sync
    if [ "$cold_cache" = yes ]; then echo 3 > /proc/sys/vm/drop_caches; fi
}

# measure TOOL PHASE COMMAND...: runs COMMAND under GNU time after dropping the caches,
# appends seconds and peak RSS.
measure() {
    local tool=$1 phase=$2; shift 2
    local log="$work/time-$tool-$phase.log"
    local start end server0 server1
    drop_caches
    server0=$(server_cpu)
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$log.rss" "$@" > "$log" 2>&1 || { echo "$tool $phase failed, see $log" >&2; cat "$log" >&2; exit 1; }
    end=$(date +%s.%N)
    server1=$(server_cpu)
    local rss user sys
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log.rss")
    user=$(awk -F': ' '/User time/ {print $2}' "$log.rss")
    sys=$(awk -F': ' '/System time/ {print $2}' "$log.rss")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$phase" "$(echo "$end - $start" | bc)" "$rss" "$user" "$sys" \
        "$(echo "($server1 - $server0) / $(getconf CLK_TCK)" | bc -l)" >> "$results"
}

# server_cpu: user + system clock ticks of the S3 server so far (0 for a local store).
server_cpu() {
    if [ "$store" = s3 ]; then awk '{print $14 + $15}' "/proc/$(cat "$repo/.tools/seaweedfs-run/pid")/stat"; else echo 0; fi
}

# per_tenant TOOL PHASE SCRIPT: runs SCRIPT (with $t set) for every tenant, sums the times,
# keeps the largest peak RSS.
per_tenant() {
    local tool=$1 phase=$2 script=$3
    local total=0 peak=0 user=0 sys=0 server=0
    for t in $tenants; do
        measure "$tool" "$phase-$t" bash -c "t=$t; $script"
        local line
        line=$(tail -1 "$results")
        total=$(echo "$total + $(echo "$line" | cut -f3)" | bc)
        user=$(echo "$user + $(echo "$line" | cut -f5)" | bc)
        sys=$(echo "$sys + $(echo "$line" | cut -f6)" | bc)
        server=$(echo "$server + $(echo "$line" | cut -f7)" | bc -l)
        local rss
        rss=$(echo "$line" | cut -f4)
        [ "$rss" -gt "$peak" ] && peak=$rss
        sed -i '$ d' "$results"
    done
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$phase" "$total" "$peak" "$user" "$sys" "$server" >> "$results"
}

# floor NAME COMMAND: a floor row, timed like every tool.
floor() {
    local name=$1; shift
    measure floor "$name" "$@"
}

echo "== set-up" >&2
if [ "$store" = s3 ]; then
    tools="lethe restic"
    if Scripts/seaweedfs.sh env > /dev/null 2>&1; then
        echo "using the running SeaweedFS of this checkout" >&2
    else
        Scripts/seaweedfs.sh start >&2
        trap 'Scripts/seaweedfs.sh stop' EXIT
    fi
    eval "$(Scripts/seaweedfs.sh env)"
    export AWS_ACCESS_KEY_ID=$LETHE_TEST_S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$LETHE_TEST_S3_SECRET_ACCESS_KEY
    s3bench="python3 $repo/Scripts/s3-bench.py"
    run_id=$(date +%s)
    lethe_bucket="bench-lethe-$run_id" restic_bucket="bench-restic-$run_id" floor_bucket="bench-floor-$run_id"
    for bucket in "$lethe_bucket" "$restic_bucket" "$floor_bucket"; do $s3bench make-bucket "$bucket"; done
    "$lethe" init --keys "$work/lethe-keys" --store "s3://$lethe_bucket/lethe" --s3-endpoint "$LETHE_TEST_S3_ENDPOINT" \
        --s3-region "$LETHE_TEST_S3_REGION" --s3-credentials "$LETHE_TEST_S3_CREDENTIALS_FILE" --s3-addressing path > /dev/null
    restic_repo() { echo "s3:$LETHE_TEST_S3_ENDPOINT/$restic_bucket/$1"; }
    for t in $tenants; do restic init --repo "$(restic_repo "$t")" > /dev/null; done
    # put_rate ROUND: raw PutObject MB/s with 1, 2 and 4 threads, one JSON line each.
    put_rate() {
        local threads
        for threads in 1 2 4; do
            measure floor "put-$1-$threads" $s3bench put-rate "$floor_bucket" --threads "$threads" --object-mib 16 --total-mib 256
            sed "s/^{/{\"round\": \"$1\", /" "$work/time-floor-put-$1-$threads.log" >> "$work/floor-s3.jsonl"
        done
    }
    : > "$work/floor-s3.jsonl"
    echo "== raw PUT rate, before" >&2
    put_rate before
else
    tools="lethe restic borg"
    "$lethe" init --keys "$work/lethe-keys" > /dev/null
    mkdir -p "$work/borg"
    for t in $tenants; do
        restic init --repo "$work/restic/$t" > /dev/null
        restic init --repo "$work/restic-off/$t" > /dev/null
        borg init --encryption repokey-blake2 "$work/borg/$t" > /dev/null
    done
fi
for t in $tenants; do "$lethe" tenant add "$t" --source "dir:$data/$t" > /dev/null; done

run_round() {
    local phase=$1
    echo "== $phase" >&2
    measure lethe "$phase" "$lethe" backup --all
    if [ "$store" = s3 ]; then
        per_tenant restic "$phase" 'restic --repo s3:'"$LETHE_TEST_S3_ENDPOINT/$restic_bucket"'/$t backup --host bench '"$data"'/$t'
    else
        per_tenant restic "$phase" 'restic --repo '"$work"'/restic/$t backup --host bench '"$data"'/$t'
        per_tenant restic-off "$phase" 'restic --repo '"$work"'/restic-off/$t backup --compression off --host bench '"$data"'/$t'
        per_tenant borg "$phase" 'borg create '"$work"'/borg/$t::'"$phase"' '"$data"'/$t'
    fi
}

run_round first
if [ "$store" = s3 ]; then
    lethe_first_bytes=$($s3bench bytes "$lethe_bucket" lethe/)
else
    lethe_first_bytes=$(du -sb "$work/lethe-home/store" | cut -f1)
    echo "== floors" >&2
    floor cp-r cp -r "$data" "$work/floor-cp"
    rm -rf "$work/floor-cp"
    floor tar-enc bash -c 'tar -C '"$data"' -cf - . | openssl enc -aes-256-ctr -pbkdf2 -pass pass:bench -out '"$work"'/floor.tar.enc'
    mkdir -p "$work/floor-restore"
    floor tar-dec bash -c 'openssl enc -d -aes-256-ctr -pbkdf2 -pass pass:bench -in '"$work"'/floor.tar.enc | tar -C '"$work"'/floor-restore -xf -'
    rm -rf "$work/floor-restore" "$work/floor.tar.enc"
fi
run_round unchanged
python3 "$generator" "$data" --mutate 5 --round 1 >&2
run_round churn

echo "== restore" >&2
measure lethe restore bash -c 'for t in '"$(echo $tenants)"'; do '"$lethe"' restore $t latest --target '"$work"'/restore-lethe/$t > /dev/null || exit 1; done'
if [ "$store" = s3 ]; then
    per_tenant restic restore 'restic --repo s3:'"$LETHE_TEST_S3_ENDPOINT/$restic_bucket"'/$t restore latest --target '"$work"'/restore-restic/$t'
    echo "== raw PUT rate, after; raw GET rate" >&2
    put_rate after
    measure floor get $s3bench get-rate "$floor_bucket" --threads 4
    sed "s/^{/{\"round\": \"after\", /" "$work/time-floor-get.log" >> "$work/floor-s3.jsonl"
    lethe_bytes=$($s3bench bytes "$lethe_bucket" lethe/)
    restic_bytes=$($s3bench bytes "$restic_bucket")
    borg_bytes=0
    restic_off_bytes=0
else
    per_tenant restic restore 'restic --repo '"$work"'/restic/$t restore latest --target '"$work"'/restore-restic/$t'
    per_tenant borg restore 'mkdir -p '"$work"'/restore-borg/$t && cd '"$work"'/restore-borg/$t && borg extract '"$work"'/borg/$t::churn'
    lethe_bytes=$(du -sb "$work/lethe-home/store" | cut -f1)
    restic_bytes=$(du -sb "$work/restic" | cut -f1)
    restic_off_bytes=$(du -sb "$work/restic-off" | cut -f1)
    borg_bytes=$(du -sb "$work/borg" | cut -f1)
    : > "$work/floor-s3.jsonl"
fi

# Check that Lethe's restore is byte-identical to the data it backed up.
for t in $tenants; do
    diff -r --no-dereference "$data/$t" "$work/restore-lethe/$t" > /dev/null || { echo "lethe restore of $t differs from the source" >&2; exit 1; }
done

data_bytes=$(du -sb --exclude=.dataset.json "$data" | cut -f1)
load_after=$(uptime)

python3 - "$results" "$work/floor-s3.jsonl" "$store" "$tools" "$preset" "$data_bytes" "$lethe_first_bytes" \
    "$lethe_bytes" "$restic_bytes" "$borg_bytes" "$cold_cache" "$load_before" "$load_after" "$restic_off_bytes" <<'PY'
import collections, json, sys
(path, floor_path, store, tools, preset, data_bytes, lethe_first, lethe_bytes, restic_bytes, borg_bytes,
 cold, load_before, load_after, restic_off_bytes) = sys.argv[1:]
restic_off_bytes = int(restic_off_bytes)
tools = tools.split()
others = [t for t in tools if t != "lethe"]
data_bytes, lethe_first = int(data_bytes), int(lethe_first)
repo_bytes = {"lethe": int(lethe_bytes), "restic": int(restic_bytes), "borg": int(borg_bytes)}
rows = collections.defaultdict(dict)
for line in open(path):
    tool, phase, secs, rss, user, sys_, server = line.rstrip("\n").split("\t")
    rows[phase][tool] = (float(secs), int(rss), float(user), float(sys_), float(server))
MiB = 2 ** 20
phases = [("first", "first backup"), ("unchanged", "unchanged re-run"), ("churn", "re-run after --mutate 5"), ("restore", "full restore")]

print(f"Store: {store}. Data set: gen_dataset.py --preset {preset} ({data_bytes / MiB:.0f} MiB). "
      f"Cold page cache before every timed phase: {cold}. Times in seconds, wall clock; peak RSS in MiB.\n")
print("| phase | " + " | ".join(tools) + " | " + " | ".join(f"lethe/{t}" for t in others) + " |")
print("| --- |" + " ---: |" * (len(tools) + len(others)))
peak = {t: 0 for t in tools}
for key, label in phases:
    r = rows[key]
    for t in tools: peak[t] = max(peak[t], r[t][1])
    print(f"| {label} | " + " | ".join(f"{r[t][0]:.2f}" for t in tools) + " | "
          + " | ".join(f"{r['lethe'][0] / r[t][0]:.3f}" for t in others) + " |")
print("| repository bytes (MiB) | " + " | ".join(f"{repo_bytes[t] / MiB:.0f}" for t in tools) + " | "
      + " | ".join(f"{repo_bytes['lethe'] / repo_bytes[t]:.3f}" for t in others) + " |")
print("| peak RSS (MiB) | " + " | ".join(f"{peak[t] / 1024:.0f}" for t in tools) + " | "
      + " | ".join(f"{peak['lethe'] / peak[t]:.3f}" for t in others) + " |")

print("\nCPU seconds of each tool's processes (user + system), per phase"
      + (", and of the S3 server (SeaweedFS) meanwhile" if store == "s3" else "") + ":\n")
print("| phase | " + " | ".join(tools) + (" | " + " | ".join(f"SeaweedFS for {t}" for t in tools) if store == "s3" else "") + " |")
print("| --- |" + " ---: |" * (len(tools) * (2 if store == "s3" else 1)))
for key, label in phases:
    r = rows[key]
    print(f"| {label} | " + " | ".join(f"{r[t][2]:.2f} + {r[t][3]:.2f}" for t in tools)
          + (" | " + " | ".join(f"{r[t][4]:.2f}" for t in tools) if store == "s3" else "") + " |")

first, restore = rows["first"]["lethe"][0], rows["restore"]["lethe"][0]
if store == "local":
    # Repository bytes after the three backup rounds, against restic compressed and not.
    lethe_b = repo_bytes["lethe"]
    print("\nRepository bytes after the three backup rounds (MiB = 2^20 bytes):\n")
    print("| repository | MiB | lethe / it |")
    print("| --- | ---: | ---: |")
    print(f"| lethe (LZ4 per blob) | {lethe_b / MiB:.0f} | 1.000 |")
    for label, b in [("restic (default: zstd, auto)", repo_bytes["restic"]), ("restic --compression off", restic_off_bytes),
                     ("borg (default: lz4)", repo_bytes["borg"])]:
        print(f"| {label} | {b / MiB:.0f} | {lethe_b / b:.3f} |")
    print(f"| the data set | {data_bytes / MiB:.0f} | {lethe_b / data_bytes:.3f} |")
    fr, rr = first / rows["first"]["restic"][0], restore / rows["restore"]["restic"][0]
    br, bo = lethe_b / repo_bytes["restic"], lethe_b / restic_off_bytes
    print("\n| goal | measured | holds |")
    print("| --- | ---: | :---: |")
    print(f"| repository bytes ≤ 1.2 × restic's default | {br:.3f} | {'yes' if br <= 1.2 else 'no'} |")
    print(f"| repository bytes < restic --compression off | {bo:.3f} | {'yes' if bo < 1 else 'no'} |")
    print(f"| first backup ≤ 0.25 × restic's time | {fr:.3f} | {'yes' if fr <= 0.25 else 'no'} |")
    print(f"| restore ≤ 0.33 × restic's time | {rr:.3f} | {'yes' if rr <= 0.33 else 'no'} |")
    print("\nFloors (no backup tool), on the data set before the churn:\n")
    print("| floor | seconds | MB/s | Lethe's phase / floor |")
    print("| --- | ---: | ---: | ---: |")
    for key, label, against in [("cp-r", "`cp -r` (first backup)", first),
                                ("tar-enc", "`tar | openssl enc -aes-256-ctr` to one file (first backup)", first),
                                ("tar-dec", "`openssl enc -d | tar x` (full restore)", restore)]:
        secs = rows[key]["floor"][0]
        print(f"| {label} | {secs:.2f} | {data_bytes / secs / 1e6:.0f} | {against / secs:.2f} |")
else:
    floors = [json.loads(line) for line in open(floor_path)]
    puts = [f for f in floors if f["op"] == "put"]
    gets = [f for f in floors if f["op"] == "get"]
    best_put = max(f["mb_per_s"] for f in puts)
    mean_put = sum(f["mb_per_s"] for f in puts) / len(puts)
    print("\nFloors: SeaweedFS's raw rates measured by boto3 in this run (Scripts/s3-bench.py; 16 MiB objects "
          "of random bytes from memory; MB = 10^6 bytes):\n")
    print("| floor | threads | MB | seconds | MB/s | boto3 CPU s | SeaweedFS CPU s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for f in puts + gets:
        label = f"raw PutObject, {f['round']} the tools" if f["op"] == "put" else "raw GetObject (cold), after the tools"
        key = f"put-{f['round']}-{f['threads']}" if f["op"] == "put" else "get"
        cpu = rows[key]["floor"]
        print(f"| {label} | {f['threads']} | {f['bytes'] / 1e6:.0f} | {f['seconds']:.2f} | {f['mb_per_s']:.1f} "
              f"| {cpu[2] + cpu[3]:.2f} | {cpu[4]:.2f} |")
    print("\n(seconds: boto3's own clock, from the first request to the last answer; the CPU columns cover the "
          "whole boto3 process, start-up and making the random bodies included.)")
    up = lethe_first / first / 1e6
    src = data_bytes / first / 1e6
    print(f"\nLethe's first backup: {data_bytes / 1e6:.0f} MB of data, {lethe_first / 1e6:.0f} MB uploaded, in {first:.2f} s: "
          f"{src:.1f} MB/s of data, {up:.1f} MB/s uploaded = {up / best_put:.2f} of the best raw PUT rate ({best_put:.1f} MB/s), "
          f"{up / mean_put:.2f} of the mean of the six ({mean_put:.1f} MB/s).")
    if gets:
        g = gets[0]["mb_per_s"]
        print(f"Lethe's restore: {data_bytes / restore / 1e6:.1f} MB/s of data = {data_bytes / restore / 1e6 / g:.2f} of the raw GET rate ({g:.1f} MB/s).")
    print("\n| goal | measured | holds |")
    print("| --- | ---: | :---: |")
    ratio = first / rows["first"]["restic"][0]
    print(f"| first backup ≥ 0.8 of the raw PUT rate | {up / best_put:.2f} | {'yes' if up / best_put >= 0.8 else 'no'} |")
    print(f"| first backup ≤ 0.5 × restic's time | {ratio:.3f} | {'yes' if ratio <= 0.5 else 'no'} |")
print(f"\nLoad before: {load_before.strip()}\nLoad after: {load_after.strip()}")
PY
