#!/usr/bin/env bash
# Lethe's main job, end to end, on the embedded default: a local object store, a SQLite
# catalog, and keys under Keys/. Installs what it needs, builds, and runs: init, sample
# tenants, nightly backups, snapshot listing, a restore checked byte for byte, an export, a
# full verification with every blob decrypted, the nightly run, and the audited destruction
# of one tenant approved by two authorizers, ending with its report verified by Lethe and by
# stock openssl.
#
# It starts from a fresh demo home each time (.lethe/ and the generated files in Keys/), and
# the sample data it generates lives in .lethe-demo/; both are git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

Scripts/install-dependencies.sh libssl-dev libsqlite3-dev pkg-config sqlite3 openssl tar
Scripts/build-release.sh
lethe="$repo/.build/release/lethe"
export LETHE_HOME="$repo/.lethe"
demo="$repo/.lethe-demo"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "fresh demo home"
rm -rf "$LETHE_HOME" "$demo"
rm -rf Keys/kek Keys/keystore.json Keys/keystore.lock Keys/signing-key.pem Keys/signing-key.pub.pem
mkdir -p "$demo"

step "sample tenants: files, a SQLite database, a command's output"
Scripts/make-sample-data.sh "$demo/data"

step "lethe init"
"$lethe" init --keys "$repo/Keys"

step "lethe tenant add"
"$lethe" tenant add acme --name "Acme GmbH" --source "dir:$demo/data/acme"
"$lethe" tenant add globex --name "Globex SARL" --source "dir:$demo/data/globex/files" \
    --source "crm.sqlite=sqlite:$demo/data/globex/crm.sqlite"
"$lethe" tenant add initech --name "Initech BV" --source "dir:$demo/data/initech" \
    --source "ledger.csv=cmd:cat $demo/data/initech/exports/ledger.csv"
"$lethe" tenant list

step "lethe backup --all (night 1)"
"$lethe" backup --all

step "a day of changes, then lethe backup --all (night 2)"
echo "changed on day 2" >> "$demo/data/acme/docs/notes.md"
sqlite3 "$demo/data/globex/crm.sqlite" "INSERT INTO contacts (name, email) VALUES ('Zoë Ångström', 'zoe@example.test');"
"$lethe" backup --all

step "lethe snapshots"
"$lethe" snapshots

step "lethe ls (latest snapshot of acme)"
"$lethe" ls latest --tenant acme

step "lethe restore acme latest, compared byte for byte with the source"
"$lethe" restore acme latest --target "$demo/restored/acme"
diff -r --no-dereference "$demo/data/acme" "$demo/restored/acme"
echo "identical"

step "lethe verify --read-data"
"$lethe" verify --read-data

step "lethe export acme (a pax tar for an access request)"
"$lethe" export acme latest --output "$demo/acme-export.tar"
tar -tvf "$demo/acme-export.tar" | sed -n '1,5p'

step "lethe nightly (tenants backed up today are skipped; retention, prune, verification)"
"$lethe" nightly

step "initech leaves: offboard with a zero-day window for the demo (90 days by default)"
"$lethe" tenant offboard initech --window-days 0
"$lethe" due

step "two authorizers, each with their own Ed25519 key made by openssl, register themselves"
# The registry changes only with the authorizers' own signatures: version 1 needs everyone it
# lists. The demo's grace period is 0 hours (24 by default), set in the same proposal.
mkdir -p "$demo/authorizers"
for who in dana carl; do
    openssl genpkey -algorithm ed25519 -out "$demo/authorizers/$who.pem"
    openssl pkey -in "$demo/authorizers/$who.pem" -pubout -out "$demo/authorizers/$who.pub.pem"
done
"$lethe" authorizer add dana --role dpo --public-key "$demo/authorizers/dana.pub.pem"
"$lethe" authorizer add carl --role officer --public-key "$demo/authorizers/carl.pub.pem"
"$lethe" authorizer policy --grace-hours 0
"$lethe" authorizer sign --key "$demo/authorizers/dana.pem"
"$lethe" authorizer proposal --raw > "$demo/proposal.json"
openssl pkeyutl -sign -rawin -inkey "$demo/authorizers/carl.pem" -in "$demo/proposal.json" -out "$demo/carl-proposal.sig"
"$lethe" authorizer sign --authorizer carl --signature "$demo/carl-proposal.sig"
"$lethe" authorizer list
"$lethe" authorizer list --fingerprints > "$demo/authorizers.txt"

step "lethe destroy request initech"
"$lethe" destroy request initech --reason retention-expired --note "client left; restore window over"
request=$("$lethe" destroy list --json | sed -n 's/.*"id" : "\(dr-[^"]*\)".*/\1/p' | head -1)

step "approvals: dana signs with lethe, carl signs the exact bytes with stock openssl"
"$lethe" destroy approve "$request" --key "$demo/authorizers/dana.pem"
"$lethe" destroy show "$request" --raw > "$demo/$request.json"
openssl pkeyutl -sign -rawin -inkey "$demo/authorizers/carl.pem" -in "$demo/$request.json" -out "$demo/carl.sig"
"$lethe" destroy approve "$request" --authorizer carl --signature "$demo/carl.sig"

step "lethe destroy execute"
"$lethe" destroy execute "$request"
report="rpt-${request#dr-}"

step "the report, checked by lethe and by stock openssl with keys held outside the report"
"$lethe" report show "$report"
"$lethe" report export "$report" --output "$demo/evidence"
"$lethe" report verify --report "$demo/evidence/$report.json" --signature "$demo/evidence/$report.sig" \
    --public-key Keys/signing-key.pub.pem --authorizers "$demo/authorizers.txt"
openssl pkeyutl -verify -pubin -inkey Keys/signing-key.pub.pem -rawin -in "$demo/evidence/$report.json" -sigfile "$demo/evidence/$report.sig"
"$lethe" report render "$report" --output "$demo/$report.html"

step "after destruction, a restore of initech is refused and names the report"
if "$lethe" restore initech latest --target "$demo/restored/initech"; then
    echo "unexpected: the restore of a destroyed tenant succeeded" >&2
    exit 1
fi

step "lethe audit verify, lethe keys status"
"$lethe" audit verify
"$lethe" keys status

step "done"
echo "Demo home: $LETHE_HOME (keys in $repo/Keys); report: $demo/$report.html"
echo "Try: LETHE_HOME=$LETHE_HOME $lethe --help"
