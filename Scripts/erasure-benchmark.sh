#!/usr/bin/env bash
# The purge's cost, measured (docs/benchmarks.md): one tenant of the small preset, 3 snapshots (mutated between), one person erased and purged.
set -euo pipefail
cd "$(dirname "$0")/.."
L=${LETHE:-$PWD/.build/debug/lethe}
GEN=${GEN:-../shared/bench/gen_dataset.py}
B=${WORK:-/tmp/lethe-erasure-bench}; rm -rf $B/data $B/home $B/keys; export LETHE_HOME=$B/home
python3 $GEN $B/data --preset small > /dev/null
T=tenant-000; du -sh $B/data/$T
$L init --keys $B/keys > /dev/null
$L tenant add acme --source dir:$B/data/$T > /dev/null
for round in 1 2 3; do $L backup acme > /dev/null; python3 $GEN $B/data --mutate 5 --round $round > /dev/null; done
EMAIL=$(sqlite3 $B/data/$T/db/app.sqlite "select email from contacts limit 1 offset 7")
ID=$(sqlite3 $B/data/$T/db/app.sqlite "select id from contacts where email = '$EMAIL'")
echo "person: row id $ID; $(grep -rl "$EMAIL" $B/data/$T | wc -l) files mention the email"
for who in dana carl; do openssl genpkey -algorithm ed25519 -out $B/$who.pem 2>/dev/null; openssl pkey -in $B/$who.pem -pubout -out $B/$who.pub.pem; done
$L authorizer add dana --role dpo --public-key $B/dana.pub.pem > /dev/null
$L authorizer add carl --role officer --public-key $B/carl.pub.pem > /dev/null
$L authorizer sign --key $B/dana.pem > /dev/null; $L authorizer sign --key $B/carl.pem > /dev/null
$L erase request acme --subject-ref bench --reason bench \
  --sql "DELETE FROM events WHERE contact_id = ?" --param "$ID" --file db/app.sqlite \
  --sql "DELETE FROM contacts WHERE email = ?" --param "$EMAIL" --file db/app.sqlite \
  --csv 'exports/*.csv' --column email --value "$EMAIL" --json exports/contacts.json --field email --value "$EMAIL" > /dev/null
REQ=$($L erase list acme --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
$L erase approve $REQ --key $B/dana.pem > /dev/null
/usr/bin/time -f "purge: %e s wall, %M KiB peak RSS" $L erase purge $REQ --json > $B/purge.json
python3 -c "import json; r=json.load(open('$B/purge.json')); print('rewritten', len(r['rewritten']), 'repacked', r['prune']['packsRepacked'], 'deleted', r['prune']['packsUnused'], 'freed', r['prune']['bytesFreed'], 'checks', [c['passed'] for c in r['checks']])"
/usr/bin/time -f "restore: %e s wall" $L restore acme --target $B/restored > /dev/null
