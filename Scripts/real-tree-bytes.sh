#!/usr/bin/env bash
# Repository bytes of Lethe against restic on real system trees rather than generated data,
# and prints a Markdown table. Bytes only: nothing is timed, so a loaded machine does not matter.
#
#   Scripts/real-tree-bytes.sh [--work DIR]
#
# The tree: copies of /usr/share/doc, /usr/include, /usr/share/zoneinfo, the python3 standard
# library, /usr/share/locale (whichever exist), and a SQLite database of 200,000 contact rows
# made with python3. One tenant, one first backup each: Lethe (release build, default settings),
# restic (its default, zstd) and restic --compression off. Not a test: nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=/tmp/lethe-real-tree
while [ $# -gt 0 ]; do
    case "$1" in
        --work) work=$2; shift 2 ;;
        *) echo "usage: $0 [--work DIR]" >&2; exit 2 ;;
    esac
done

Scripts/install-dependencies.sh libssl-dev libsqlite3-dev libcurl4-openssl-dev pkg-config restic python3 >&2
Scripts/build-release.sh >&2
lethe="$repo/.build/release/lethe"

rm -rf "$work"
mkdir -p "$work/tree"
stdlib=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
for source in /usr/share/doc /usr/include /usr/share/zoneinfo "$stdlib" /usr/share/locale; do
    [ -d "$source" ] && cp -a "$source" "$work/tree/$(echo "$source" | tr / _)"
done
python3 - "$work/tree/contacts.sqlite" <<'PY'
import random, sqlite3, sys
r = random.Random(1)
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, email TEXT, city TEXT, phone TEXT, created TEXT)")
first = "Anna Ben Chloé Dmitri Eva Farid Greta Hiro Ines Jonas Katarzyna Luca Maëlle Nils Olga Pedro".split()
last = "Müller Smith Rossi Nowak García Dubois Jansen Ivanova Kowalski Lindqvist Horvat Fischer".split()
cities = "Berlin Paris Amsterdam Milano Madrid Warszawa Stockholm Dublin Lisboa Wien".split()
rows = []
for i in range(200_000):
    f, l = r.choice(first), r.choice(last)
    rows.append((i, f"{f} {l}", f"{f.lower()}.{l.lower()}{r.randrange(100)}@example.eu", r.choice(cities),
                 f"+49 {r.randrange(10**9):09d}", f"2025-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}"))
db.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)", rows)
db.commit()
PY
tree_bytes=$(du -sb "$work/tree" | cut -f1)
files=$(find "$work/tree" -type f | wc -l)

export LETHE_HOME="$work/lethe-home" RESTIC_PASSWORD=bench-password RESTIC_CACHE_DIR="$work/restic-cache"
"$lethe" init --keys "$work/lethe-keys" > /dev/null
"$lethe" tenant add real --source "dir:$work/tree" > /dev/null
"$lethe" backup real > /dev/null
restic init --repo "$work/restic" > /dev/null
restic --repo "$work/restic" backup --host bench "$work/tree" > /dev/null
restic init --repo "$work/restic-off" > /dev/null
restic --repo "$work/restic-off" backup --compression off --host bench "$work/tree" > /dev/null

lethe_bytes=$(du -sb "$work/lethe-home/store" | cut -f1)
restic_bytes=$(du -sb "$work/restic" | cut -f1)
restic_off_bytes=$(du -sb "$work/restic-off" | cut -f1)
python3 - "$tree_bytes" "$files" "$lethe_bytes" "$restic_bytes" "$restic_off_bytes" <<'PY'
import sys
tree, files, lethe, restic, off = map(int, sys.argv[1:])
MiB = 2 ** 20
print(f"Real tree: {tree / MiB:.0f} MiB in {files} files.\n")
print("| repository | MiB | lethe / it |")
print("| --- | ---: | ---: |")
print(f"| lethe (LZ4 per blob) | {lethe / MiB:.0f} | 1.000 |")
print(f"| restic (default: zstd, auto) | {restic / MiB:.0f} | {lethe / restic:.3f} |")
print(f"| restic --compression off | {off / MiB:.0f} | {lethe / off:.3f} |")
print(f"| the tree | {tree / MiB:.0f} | {lethe / tree:.3f} |")
PY
