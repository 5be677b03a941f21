#!/usr/bin/env bash
# Measures `lethe destroy execute` of one tenant that holds many objects, and the floor beside
# it: `rm -r` of a copy of the same tenant folder. Prints a Markdown table.
#
#   Scripts/destroy-benchmark.sh [--objects N] [--work DIR]        (default 10000 objects)
#
# The tenant gets its objects the way a real one does, from backups: every run changes one
# small file, so it adds a pack, an index and a snapshot (three objects), and backs up N/3
# times. Release build, local store. The destruction is authorized as in Scripts/quickstart.sh
# (two authorizers with openssl-made keys, no grace period); its execution is timed once, after
# a `sync` and a dropped page cache where the kernel allows it. Not a test: nothing is asserted;
# the numbers go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

objects=10000
work=/tmp/lethe-destroy-bench
while [ $# -gt 0 ]; do
    case "$1" in
        --objects) objects=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        *) echo "usage: $0 [--objects N] [--work DIR]" >&2; exit 2 ;;
    esac
done

Scripts/install-dependencies.sh libssl-dev libsqlite3-dev pkg-config openssl time >&2
Scripts/build-release.sh >&2
lethe="$repo/.build/release/lethe"

rm -rf "$work"
mkdir -p "$work/data" "$work/authorizers"
export LETHE_HOME="$work/home"
"$lethe" init > /dev/null
echo "id,name,email" > "$work/data/contacts.csv"
"$lethe" tenant add big --name "Big Tenant" --source "dir:$work/data" > /dev/null

runs=$(( (objects + 2) / 3 ))
start=$(date +%s.%N)
for n in $(seq 1 "$runs"); do
    echo "$n,Person $n,person$n@example.com" >> "$work/data/contacts.csv"
    "$lethe" backup big > /dev/null
done
filled=$(echo "$(date +%s.%N) - $start" | bc)
count=$(find "$LETHE_HOME/store/tenants/big" -type f | wc -l)
bytes=$(du -sb "$LETHE_HOME/store/tenants/big" | cut -f1)

# The floor: removing a copy of the same files, with the same page cache state.
cp -a "$LETHE_HOME/store/tenants/big" "$work/floor"
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
drop_caches
start=$(date +%s.%N)
rm -r "$work/floor"; sync
floor=$(echo "$(date +%s.%N) - $start" | bc)

"$lethe" tenant offboard big --window-days 0 > /dev/null
for who in dana carl; do
    openssl genpkey -algorithm ed25519 -out "$work/authorizers/$who.pem" 2> /dev/null
    openssl pkey -in "$work/authorizers/$who.pem" -pubout -out "$work/authorizers/$who.pub.pem"
done
"$lethe" authorizer add dana --role dpo --public-key "$work/authorizers/dana.pub.pem" > /dev/null
"$lethe" authorizer add carl --role officer --public-key "$work/authorizers/carl.pub.pem" > /dev/null
"$lethe" authorizer policy --grace-hours 0 > /dev/null
"$lethe" authorizer sign --key "$work/authorizers/dana.pem" > /dev/null
"$lethe" authorizer sign --key "$work/authorizers/carl.pem" > /dev/null
"$lethe" destroy request big --reason retention-expired --note "destroy benchmark" > /dev/null
request=$("$lethe" destroy list --json | sed -n 's/.*"id" : "\(dr-[^"]*\)".*/\1/p' | head -1)
"$lethe" destroy approve "$request" --key "$work/authorizers/dana.pem" > /dev/null
"$lethe" destroy approve "$request" --key "$work/authorizers/carl.pem" > /dev/null

drop_caches
start=$(date +%s.%N)
/usr/bin/time -v -o "$work/execute.time" "$lethe" destroy execute "$request" > "$work/execute.log" 2>&1 \
    || { echo "destroy execute failed (see $work/execute.log):" >&2; tail -5 "$work/execute.log" >&2; exit 1; }
executed=$(echo "$(date +%s.%N) - $start" | bc)
# The tenant's folder itself is gone after a destruction; find then fails, which is the answer 0.
left=$( (find "$LETHE_HOME/store/tenants/big" -type f 2> /dev/null || true) | wc -l)
rss=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$work/execute.time")

echo "## $(date -u +%Y-%m-%d): destroy execute of one tenant, \`Scripts/destroy-benchmark.sh --objects $objects\`"
echo
echo "$count objects ($(numfmt --to=iec "$bytes")) from $runs backups in $(printf '%.0f' "$filled") s; load before the execution: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| step | seconds | objects per second | peak RSS (MiB) |"
echo "| --- | ---: | ---: | ---: |"
echo "| destroy execute (inventory, ratchet, delete, verify, report) | $(printf '%.2f' "$executed") | $(echo "$count / $executed" | bc) | $rss |"
echo "| floor: rm -r of a copy of the tenant's folder, then sync | $(printf '%.2f' "$floor") | $(echo "$count / $floor" | bc) | |"
echo
echo "Objects left under the tenant's prefix afterwards: $left."
