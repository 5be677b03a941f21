#!/usr/bin/env bash
# Measures the catalog's listings at scale: N tenants with 90 snapshots each. Run after
# Scripts/scale-benchmark.sh, on its home (10,000 tenants with two real snapshots each).
#
#   Scripts/catalog-benchmark.sh [--home DIR] [--snapshots K] [--tenant ID]
#
# 90 snapshots for every tenant through backups would take hours, so the catalog gets them the
# way `lethe index rebuild` or a backup's sync writes rows, but in one SQL statement: for every
# tenant but one, K-2 more rows copied from its latest snapshot, a day apart, with fresh ids.
# The one tenant listed (`--tenant`, default t5000) gets its K-2 snapshots from real backups
# (faketime, a day apart, its ticket changed each day; its data is beside the home, as
# scale-benchmark.sh lays it out), because `snapshots TENANT` first reconciles that tenant's rows with
# the store and would drop rows with no object behind them. Nothing else is run on this home
# afterwards: `verify` or a nightly would reconcile every tenant and drop the copied rows.
# Release build; each listing timed once after a `sync`. Not a test: nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

home=/tmp/lethe-scale/home
snapshots=90
tenant=t5000
while [ $# -gt 0 ]; do
    case "$1" in
        --home) home=$2; shift 2 ;;
        --snapshots) snapshots=$2; shift 2 ;;
        --tenant) tenant=$2; shift 2 ;;
        *) echo "usage: $0 [--home DIR] [--snapshots K] [--tenant ID]" >&2; exit 2 ;;
    esac
done
[ -f "$home/catalog.sqlite" ] || { echo "no catalog in $home: run Scripts/scale-benchmark.sh first" >&2; exit 2; }

Scripts/install-dependencies.sh libssl-dev libsqlite3-dev pkg-config sqlite3 time faketime bc >&2
Scripts/build-release.sh >&2
lethe="$repo/.build/release/lethe"
export LETHE_HOME="$home"
catalog="$home/catalog.sqlite"

have=$(sqlite3 "$catalog" "SELECT count(*) FROM snapshots WHERE tenant = '$tenant'")
for day in $(seq $((have + 1)) "$snapshots"); do
    echo "change $day" >> "$(dirname "$home")/data/$tenant/ticket.txt"
    faketime -f "+${day}d" "$lethe" backup "$tenant" > /dev/null
done

sqlite3 "$catalog" <<EOF
WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < $snapshots)
INSERT INTO snapshots (tenant, id, time, tree, parent, host, files, bytes, summary)
SELECT s.tenant, lower(hex(randomblob(32))), strftime('%Y-%m-%dT%H:%M:%fZ', s.time, '+' || (100 + n.k) || ' days'),
       s.tree, s.id, s.host, s.files, s.bytes, s.summary
FROM (SELECT tenant, max(time) AS time, id, tree, host, files, bytes, summary FROM snapshots GROUP BY tenant) AS s, n
WHERE s.tenant != '$tenant'
  AND n.k <= $snapshots - (SELECT count(*) FROM snapshots WHERE tenant = s.tenant);
EOF
tenants=$(sqlite3 "$catalog" "SELECT count(*) FROM tenants")
rows=$(sqlite3 "$catalog" "SELECT count(*) FROM snapshots")
mine=$(sqlite3 "$catalog" "SELECT count(*) FROM snapshots WHERE tenant = '$tenant'")

results=()
measure() {
    local name=$1; shift
    local log=/tmp/catalog-benchmark.$$.log
    sync
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$log.time" "$@" > /dev/null 2> "$log" || { echo "$name failed:" >&2; cat "$log" >&2; exit 1; }
    end=$(date +%s.%N)
    local rss
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$log.time")
    results+=("| $name | $(printf '%.3f' "$(echo "$end - $start" | bc)") | $rss |")
    rm -f "$log" "$log.time"
}
measure "snapshots $tenant ($mine snapshots)" "$lethe" snapshots "$tenant"
measure "snapshots $tenant --json" "$lethe" snapshots "$tenant" --json
measure "tenant list ($tenants tenants)" "$lethe" tenant list
measure "tenant list --json" "$lethe" tenant list --json
measure "snapshots, every tenant ($rows rows)" "$lethe" snapshots

echo "## $(date -u +%Y-%m-%d): the catalog at $tenants tenants × $snapshots snapshots, \`Scripts/catalog-benchmark.sh\`"
echo
echo "Catalog: $rows snapshot rows, $(numfmt --to=iec "$(stat -c %s "$catalog")"). Load before: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| listing | seconds | peak RSS (MiB) |"
echo "| --- | ---: | ---: |"
printf '%s\n' "${results[@]}"
