#!/usr/bin/env bash
# Measures Lethe with many small tenants, as a processor has them, and prints a Markdown table.
#
#   Scripts/scale-benchmark.sh [--tenants N] [--work DIR]      (default 10000 tenants)
#
# Each tenant is a directory of two small files (a contacts export and a ticket). Release build,
# local store. Measured, each once, wall clock and peak RSS (GNU time), after a `sync`:
#   tenant import       N tenants from one JSON Lines file
#   first nightly       backs every tenant up
#   skipped nightly     the same night again with its shards' done-markers removed, so every
#                       backup is skipped as recent: retention, prune and verify only (the case
#                       issue 16 measured at 66 ms a tenant)
#   next nightly        a day later (faketime +1d), nothing changed: every tenant backed up
#                       again (an unchanged snapshot), retention, prune, verify
#   verify              every tenant's structure
#   audit verify        the whole log
#   snapshots, tenant list
# and the objects each nightly wrote (store files created or rewritten, by mtime). Not a test:
# nothing is asserted; the numbers go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

tenants=10000
work=/tmp/lethe-scale
while [ $# -gt 0 ]; do
    case "$1" in
        --tenants) tenants=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        *) echo "usage: $0 [--tenants N] [--work DIR]" >&2; exit 2 ;;
    esac
done

Scripts/install-dependencies.sh libssl-dev libsqlite3-dev pkg-config time faketime python3 >&2
Scripts/build-release.sh >&2
lethe="$repo/.build/release/lethe"

rm -rf "$work"
mkdir -p "$work"
export LETHE_HOME="$work/home"
python3 - "$work" "$tenants" <<'EOF'
import json, os, sys
work, count = sys.argv[1], int(sys.argv[2])
with open(os.path.join(work, "tenants.jsonl"), "w") as lines:
    for n in range(1, count + 1):
        d = os.path.join(work, "data", "t%d" % n)
        os.makedirs(d)
        with open(os.path.join(d, "contacts.csv"), "w") as f:
            f.write("id,name,email\n%d,Person %d,person%d@example.com\n" % (n, n, n))
        with open(os.path.join(d, "ticket.txt"), "w") as f:
            f.write("Ticket %d: the printer is on fire.\n" % n)
        lines.write(json.dumps({"id": "t%d" % n, "name": "Tenant %d" % n, "sources": ["dir:" + d]}) + "\n")
EOF
"$lethe" init > /dev/null

rows=()
# measure NAME COMMAND...: seconds, per-tenant milliseconds and peak RSS of one run.
measure() {
    local name=$1; shift
    local log="$work/$(echo "$name" | tr ' ' '-').log"
    sync
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$log.time" "$@" > "$log" 2>&1 || { echo "$name failed (see $log):" >&2; tail -5 "$log" >&2; exit 1; }
    end=$(date +%s.%N)
    local seconds rss
    seconds=$(echo "$end - $start" | bc)
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$log.time")
    rows+=("| $name | $(printf '%.2f' "$seconds") | $(echo "scale=2; 1000 * $seconds / $tenants" | bc) | $rss |")
}

# written NAME: the store's files created or rewritten since the marker, per tenant.
objects() { find "$LETHE_HOME/store" -type f | wc -l; }
written() {
    local count
    count=$(find "$LETHE_HOME/store" -type f -newer "$work/marker" | wc -l)
    rows+=("| objects written by $1 | $count | $(echo "scale=3; $count / $tenants" | bc) per tenant | |")
}

measure "tenant import" "$lethe" tenant import "$work/tenants.jsonl"
touch "$work/marker"; sleep 1
measure "first nightly" "$lethe" nightly
written "first nightly"

rm -rf "$LETHE_HOME/store/leases/nightly"
touch "$work/marker"; sleep 1
measure "skipped nightly" "$lethe" nightly
written "skipped nightly"

touch "$work/marker"; sleep 1
measure "next nightly (+1 day, unchanged)" faketime -f +1d "$lethe" nightly
written "next nightly"

measure "verify" "$lethe" verify
measure "audit verify" "$lethe" audit verify
measure "snapshots t$((tenants / 2))" "$lethe" snapshots "t$((tenants / 2))"
measure "tenant list" "$lethe" tenant list

entries=$("$lethe" audit verify | sed -n 's/^\([0-9]*\) entries.*/\1/p')
echo "## $(date -u +%Y-%m-%d): $tenants tenants, \`Scripts/scale-benchmark.sh --tenants $tenants\`"
echo
echo "Load before: $(cut -d' ' -f1-3 /proc/loadavg). Store: $(objects) objects, audit log $entries entries."
echo
echo "| step | seconds | ms per tenant | peak RSS (MiB) |"
echo "| --- | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
