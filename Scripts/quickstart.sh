#!/usr/bin/env bash
# Lethe's main job, end to end, on the embedded default: a local object store, a SQLite
# catalog, and keys under Keys/. Installs what it needs, builds, and runs: init, sample
# tenants, nightly backups, snapshot listing, a restore checked byte for byte, and a full
# verification with every blob decrypted.
#
# It starts from a fresh demo home each time (.lethe/ and the generated files in Keys/), and
# the sample data it generates lives in .lethe-demo/; both are git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

Scripts/install-dependencies.sh libssl-dev libsqlite3-dev pkg-config sqlite3 openssl
swift build -c release
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

step "lethe keys status"
"$lethe" keys status

step "done"
echo "Demo home: $LETHE_HOME (keys in $repo/Keys). Try: LETHE_HOME=$LETHE_HOME $lethe --help"
