import Foundation
import Glibc
import LetheStore
import Testing

@Suite struct FileSystemTests {
    let scratch = Scratch()

    func mode(_ path: String) -> mode_t {
        var info = stat()
        stat(path, &info)
        return info.st_mode & 0o7777
    }

    @Test func atomicWriteHasExactlyTheRequestedModeWhateverTheUmask() throws {
        let old = umask(0o077)
        defer { umask(old) }
        try FileSystem.writeAtomically(Array("x".utf8), to: "\(scratch.path)/a", mode: 0o644)
        #expect(mode("\(scratch.path)/a") == 0o644)
        try FileSystem.writeAtomically(Array("y".utf8), to: "\(scratch.path)/b")
        #expect(mode("\(scratch.path)/b") == 0o600)
    }

    @Test func atomicWriteReplacesAndLeavesNoTemporaryFile() throws {
        let path = "\(scratch.path)/file"
        try FileSystem.writeAtomically(Array("first".utf8), to: path)
        try FileSystem.writeAtomically(Array("second".utf8), to: path)
        #expect(try FileSystem.readFile(path) == Array("second".utf8))
        #expect(try FileSystem.listDirectory(scratch.path) == ["file"])
    }

    @Test func atomicWriteIntoAMissingDirectoryFailsNamingThePath() throws {
        #expect(throws: SystemError.self) {
            try FileSystem.writeAtomically([1], to: "\(scratch.path)/missing/file")
        }
    }

    @Test func readFileRefusesFilesOverTheLimit() throws {
        try FileSystem.writeAtomically([UInt8](repeating: 1, count: 100), to: "\(scratch.path)/big")
        #expect(throws: SystemError.self) { _ = try FileSystem.readFile("\(scratch.path)/big", limit: 99) }
        #expect(try FileSystem.readFile("\(scratch.path)/big", limit: 100).count == 100)
    }

    @Test func requirePrivateRefusesGroupOrOtherBitsAndNamesThePath() throws {
        let path = "\(scratch.path)/key"
        try FileSystem.writeAtomically([1], to: path)
        try FileSystem.requirePrivate(path)
        for bad: mode_t in [0o640, 0o604, 0o620, 0o601] {
            chmod(path, bad)
            do {
                try FileSystem.requirePrivate(path)
                Issue.record("mode \(String(bad, radix: 8)) was accepted")
            } catch let error as InsecurePermissions {
                #expect(error.path == path && error.description.contains(path))
            }
        }
    }

    @Test func overwriteAndRemoveDeletesTheFileAndIsIdempotent() throws {
        let path = "\(scratch.path)/kek"
        try FileSystem.writeAtomically([UInt8](repeating: 0xAB, count: 32), to: path)
        try FileSystem.overwriteAndRemove(path)
        #expect(!FileSystem.exists(path))
        try FileSystem.overwriteAndRemove(path)
    }

    @Test func removeTreeRemovesNestedContentAndToleratesAbsence() throws {
        try FileSystem.makeDirectories("\(scratch.path)/t/a/b")
        try FileSystem.writeAtomically([1], to: "\(scratch.path)/t/a/b/f")
        symlink("/etc/passwd", "\(scratch.path)/t/link")
        try FileSystem.removeTree("\(scratch.path)/t")
        #expect(!FileSystem.exists("\(scratch.path)/t"))
        #expect(FileSystem.exists("/etc/passwd"), "links are removed, not followed")
        try FileSystem.removeTree("\(scratch.path)/t")
    }

    @Test func diskFullErrorsSayDiskFull() {
        let error = SystemError("write", "/srv/x", code: ENOSPC)
        #expect(error.isDiskFull && error.description.contains("/srv/x") && error.description.hasSuffix("(disk full)"))
    }

    @Test func timestampsRoundTripAndDateOnlyMeansMidnightUTC() throws {
        let date = try #require(Timestamp.parse("2026-03-01T02:00:00Z"))
        #expect(Timestamp.format(date) == "2026-03-01T02:00:00Z")
        #expect(Timestamp.parse(Timestamp.formatPrecise(date.addingTimeInterval(0.25)))! > date)
        #expect(Timestamp.parse("2026-03-01") == Timestamp.parse("2026-03-01T00:00:00Z"))
        #expect(Timestamp.parse("yesterday") == nil)
    }

    @Test func systemClockHonoursLETHE_NOWInDebugBuilds() {
        let clock = SystemClock(environment: ["LETHE_NOW": "2030-01-01T00:00:00Z"])
        #if DEBUG
        #expect(clock.now() == Timestamp.parse("2030-01-01T00:00:00Z"))
        #else
        #expect(clock.now() < Timestamp.parse("2030-01-01T00:00:00Z")!)
        #endif
    }

    @Test func fileLockExcludesASecondHolderUntilReleased() throws {
        let path = "\(scratch.path)/lock"
        var first: FileLock? = try FileLock.acquire(path)
        #expect(try FileLock.tryAcquire(path) == nil)
        _ = first
        first = nil
        #expect(try FileLock.tryAcquire(path) != nil)
    }
}
