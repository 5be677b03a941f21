import Testing
@testable import LetheCLI

/// The text of the progress line; drawing it on a terminal is covered end to end.
@Suite struct ProgressMeterTests {
    typealias State = ProgressMeter.State

    @Test func withTotalsAndARateTheLineHasPercentRateAndETA() {
        let state = State(bytes: 256 << 20, files: 1234, totalBytes: 1 << 30, totalFiles: 5000, detail: "acme")
        let line = ProgressMeter.line(verb: "backup", state: state, rate: Double(64 << 20))
        // 768 MiB left at 64 MiB/s: 12 s.
        #expect(line == "backup: 256.0 MiB of 1.0 GiB (25%), 1,234 of 5,000 files, 64.0 MiB/s, ETA 0:12 — acme")
    }

    @Test func withoutTotalsThereIsNoETA() {
        let state = State(bytes: 3 << 20, files: 1, totalBytes: nil, totalFiles: nil, detail: "")
        #expect(ProgressMeter.line(verb: "backup", state: state, rate: Double(1 << 20)) == "backup: 3.0 MiB, 1 file, 1.0 MiB/s")
    }

    @Test func beforeARateIsKnownTheLineSaysOnlyWhatIsDone() {
        let state = State(bytes: 0, files: 0, totalBytes: 10 << 20, totalFiles: 1, detail: "")
        #expect(ProgressMeter.line(verb: "restore", state: state, rate: nil) == "restore: 0 B of 10.0 MiB (0%), 0 of 1 file")
    }

    @Test func packsAreCountedInTheirOwnUnitAndPercentNeverPassesAHundred() {
        let state = State(bytes: 12 << 20, files: 3, totalBytes: 10 << 20, totalFiles: 2, detail: "acme")
        #expect(ProgressMeter.line(verb: "verify", unit: "pack", state: state, rate: nil) == "verify: 12.0 MiB of 10.0 MiB (100%), 3 of 2 packs — acme")
    }

    @Test func theClockReadsMinutesAndHours() {
        #expect(ProgressMeter.clock(0.2) == "0:01")
        #expect(ProgressMeter.clock(46) == "0:46")
        #expect(ProgressMeter.clock(725) == "12:05")
        #expect(ProgressMeter.clock(7390) == "2:03:10")
    }
}
