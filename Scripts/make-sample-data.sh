#!/usr/bin/env bash
# Writes three small sample tenants under DIR for the quick start and for trying Lethe out:
# documents with non-ASCII names, CSV exports, incompressible uploads, a symbolic link, an
# empty folder and an empty file (acme); a folder plus a SQLite CRM database (globex); a
# folder whose ledger is also captured through a command (initech). Needs only coreutils and
# the sqlite3 command.
#   Scripts/make-sample-data.sh DIR
set -euo pipefail
root=${1:?usage: make-sample-data.sh DIR}
mkdir -p "$root"

acme="$root/acme"
mkdir -p "$acme/docs/contracts" "$acme/exports/2026-10" "$acme/uploads" "$acme/empty folder"
printf 'Meeting notes\n\nRenewal discussed with the client.\n' > "$acme/docs/notes.md"
printf 'Vertrag für Müller & Söhne\n' > "$acme/docs/contracts/vertrag-müller.txt"
printf 'Contrat — résiliation\n' > "$acme/docs/contracts/contrat résiliation.txt"
for i in $(seq 1 40); do
    printf '%d,Person %d,person%d@example.test,+49 30 %07d\n' "$i" "$i" "$i" "$((i * 7919))"
done > "$acme/exports/2026-10/contacts.csv"
head -c 3000000 /dev/urandom > "$acme/uploads/scan-0001.pdf"
head -c 700000 /dev/urandom > "$acme/uploads/photo.jpg"
: > "$acme/docs/empty.txt"
ln -s docs/notes.md "$acme/latest-notes"
chmod 0640 "$acme/docs/contracts/vertrag-müller.txt"

globex="$root/globex"
mkdir -p "$globex/files/tickets"
for i in $(seq 1 25); do
    printf '{"ticket": %d, "subject": "Question %d", "status": "open"}\n' "$i" "$i" > "$globex/files/tickets/$i.json"
done
rm -f "$globex/crm.sqlite"
sqlite3 "$globex/crm.sqlite" > /dev/null <<'SQL'
PRAGMA journal_mode = WAL;
CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL);
INSERT INTO contacts (name, email) VALUES ('Anna Müller', 'anna@example.test'), ('Søren Berg', 'soren@example.test');
SQL

initech="$root/initech"
mkdir -p "$initech/exports" "$initech/mail"
for i in $(seq 1 200); do printf '2026-10-%02d,invoice %d,%d.00\n' "$((i % 28 + 1))" "$i" "$((i * 13))"; done > "$initech/exports/ledger.csv"
printf 'From: a@example.test\nSubject: Hello\n\nBody\n' > "$initech/mail/0001.eml"
head -c 9000000 /dev/urandom > "$initech/exports/archive.bin"
