#!/usr/bin/env bash
# Fuzzes Lethe's decoders with libFuzzer and AddressSanitizer (docs/fuzzing.md).
#
#   Scripts/fuzz.sh [--seconds N] [TARGET...]     every target (`LetheFuzz list`) when none is named
#
# Builds LetheFuzz with -sanitize=fuzzer,address in .build/fuzz (apart from the normal build),
# then runs each target for N seconds (default 60), one after the other. A target's corpus
# grows in .build/fuzz/corpus/<target>/ from the seeds in Tests/Fuzz/corpus/<target>/, which
# are only read. Whatever crashes, leaks, exhausts memory or hangs is written to
# .build/fuzz/findings/<target>/: fix the decoder, then add the input to
# Tests/Fuzz/regressions/<target>/, which the test suite feeds to the target on every run.
#
# Prints one line per target (executions, executions per second, corpus, coverage, findings)
# and keeps libFuzzer's output in .build/fuzz/logs/<target>.log. Exits 1 if any target found
# something. LETHE_FUZZ_OPTIONS adds libFuzzer options (for example -use_value_profile=1).
# LETHE_FUZZ_DIR puts corpora, findings and logs elsewhere than .build/fuzz; LETHE_FUZZ_BIN
# runs that binary instead of building one (a long run from a copy, while the tree changes).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --seconds=*) seconds="${1#*=}"; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done

# libFuzzer and ASan come with the Swift toolchain's clang runtime; lld, not gold, links them
# (gold stops with an internal error in its DWARF reader on this binary).
flags=(-c release --build-path .build/fuzz --product LetheFuzz
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -DLETHE_LIBFUZZER -Xswiftc -use-ld=lld)
work="${LETHE_FUZZ_DIR:-.build/fuzz}"
mkdir -p "$work/logs"
if [ -n "${LETHE_FUZZ_BIN:-}" ]; then
    binary="$LETHE_FUZZ_BIN"
else
    if ! swift build "${flags[@]}" >"$work/logs/build.log" 2>&1; then
        grep -v "Cannot export local symbol" "$work/logs/build.log" >&2
        exit 1
    fi
    binary="$(swift build "${flags[@]}" --show-bin-path)/LetheFuzz"
fi

if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <("$binary" list | cut -f1)
fi

found=0
printf '%-20s %12s %8s %8s %8s %8s  %s\n' target executions exec/s corpus cov rss-mb findings
for target in "${targets[@]}"; do
    [ -d "Tests/Fuzz/corpus/$target" ] || { echo "fuzz.sh: no target $target (see LetheFuzz list)" >&2; exit 2; }
    corpus="$work/corpus/$target"
    findings="$work/findings/$target"
    log="$work/logs/$target.log"
    mkdir -p "$corpus" "$findings"
    before=$(find "$findings" -type f | wc -l)
    # The Swift runtime's backtracer would take its time over every crash; ASan reports it.
    # Leaks in the toolchain's own libraries are suppressed, each with its reason, in
    # Tests/Fuzz/lsan-suppressions.txt.
    # libFuzzer checks for leaks after each input that allocates more than it frees. For these
    # targets that is most inputs (FoundationXML's leak above on every malformed answer; the
    # audit target's store holding its entries), and the check slowed them 10 to 50 times
    # (s3-xml 43 against 2,275 executions a second): their leaks are checked once, at the end.
    case "$target" in
        s3-xml|registry|audit-entry) leaks=-detect_leaks=0 ;;
        *) leaks= ;;
    esac
    status=0
    SWIFT_BACKTRACE=enable=no LSAN_OPTIONS="suppressions=$PWD/Tests/Fuzz/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
        "$binary" "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
        -print_final_stats=1 -artifact_prefix="$findings/" $leaks ${LETHE_FUZZ_OPTIONS:-} "$corpus" "Tests/Fuzz/corpus/$target" \
        >"$log" 2>&1 || status=$?
    after=$(find "$findings" -type f | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    size=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
    new=$((after - before))
    note="$new"
    if [ "$status" -ne 0 ] || [ "$new" -ne 0 ]; then
        found=1
        note="$new (exit $status: $(grep -m1 -E 'SUMMARY|ERROR|Fatal error|invariant broken' "$log" | cut -c1-120)) see $log"
    fi
    printf '%-20s %12s %8s %8s %8s %8s  %s\n' "$target" "${execs:-?}" "${rate:-?}" "${size:-?}" "${cov:-?}" "${rss:-?}" "$note"
done
exit $found
