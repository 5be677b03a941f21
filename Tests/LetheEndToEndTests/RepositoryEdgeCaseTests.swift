import Foundation
import Glibc
import Testing

/// The `summary` of the one tenant in `backup --json` output.
func onlyTenantResult(_ run: E2ERun) throws -> [String: Any] {
    let object = try #require(try run.json() as? [String: Any], "\(run.output)")
    let tenants = try #require(object["tenants"] as? [[String: Any]])
    try #require(tenants.count == 1)
    return tenants[0]
}

func summaryOf(_ run: E2ERun) throws -> [String: Any] {
    try #require(try onlyTenantResult(run)["summary"] as? [String: Any], "\(run.output)")
}

/// Restores beyond the plain round trip: older snapshots, sub-directories, forced restores into
/// a directory that holds traps, and what a failed restore leaves behind.
@Suite struct RestoreEdgeCaseTests {
    @Test func olderSnapshotRestoresItsOwnContentAndSnapshotsChainToTheirParent() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme")
        let original = try String(contentsOfFile: "\(source)/docs/notes.md", encoding: .utf8)
        #expect(home.lethe(["backup", "acme"], environment: ["LETHE_NOW": "2026-01-01T00:00:00Z"]).status == 0)
        try home.write("\(source)/docs/notes.md", "rewritten on the second day\n")
        #expect(home.lethe(["backup", "acme"], environment: ["LETHE_NOW": "2026-01-02T00:00:00Z"]).status == 0)
        let snapshots = try #require(try home.lethe("snapshots", "acme", "--json").json() as? [[String: Any]])
        try #require(snapshots.count == 2)
        let first = try #require(snapshots[0]["id"] as? String)
        #expect(snapshots[0]["time"] as? String == "2026-01-01T00:00:00.000Z")
        #expect(snapshots[1]["time"] as? String == "2026-01-02T00:00:00.000Z")
        #expect(snapshots[0]["parent"] as? String == nil)
        #expect(snapshots[1]["parent"] as? String == first)
        let old = "\(home.root)/old"
        #expect(home.lethe("restore", "acme", String(first.prefix(8)), "--target", old).status == 0)
        #expect(try String(contentsOfFile: "\(old)/docs/notes.md", encoding: .utf8) == original)
        let new = "\(home.root)/new"
        #expect(home.lethe("restore", "acme", "latest", "--target", new).status == 0)
        #expect(try String(contentsOfFile: "\(new)/docs/notes.md", encoding: .utf8) == "rewritten on the second day\n")
        #expect(SampleTree.differences(source, new) == [])
    }

    @Test func directoryPathRestoresItsWholeSubtreeAndNothingElse() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme")
        #expect(home.lethe("backup", "acme").status == 0)
        let target = "\(home.root)/r"
        #expect(home.lethe("restore", "acme", "--target", target, "--path", "docs").status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["docs"])
        #expect(SampleTree.differences("\(source)/docs", "\(target)/docs") == [])
    }

    /// `--force` replaces same-named entries; a symbolic link already in the target where the
    /// snapshot has a directory is replaced, never followed out of the target.
    @Test func forcedRestoreReplacesEntriesAndNeverWritesThroughALinkInTheTarget() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme")
        #expect(home.lethe("backup", "acme").status == 0)
        let outside = "\(home.root)/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let target = "\(home.root)/r"
        try home.write("\(target)/unrelated.txt", "keep me\n")
        try home.write("\(target)/latest-notes", "a file where the snapshot has a link\n")
        try home.write("\(target)/uploads/scan.pdf", "stale copy\n")
        #expect(symlink(outside, "\(target)/docs") == 0)
        let run = home.lethe("restore", "acme", "--target", target, "--force")
        #expect(run.status == 0, "\(run.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == [], "nothing was written outside the target")
        var info = stat()
        #expect(lstat("\(target)/docs", &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR)
        #expect(SampleTree.differences("\(source)/docs", "\(target)/docs") == [])
        #expect(SampleTree.differences("\(source)/uploads", "\(target)/uploads") == [])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(target)/latest-notes") == "docs/notes.md")
        #expect(try String(contentsOfFile: "\(target)/unrelated.txt", encoding: .utf8) == "keep me\n")
    }

    /// A file appears under its name only once complete: a restore that meets damaged data
    /// leaves neither the damaged file nor a temporary file behind.
    @Test func failedRestoreLeavesNoPartialOrTemporaryFile() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe("backup", "acme").status == 0)
        // A pack of content and one of trees; the first is ~715 kB, 700 kB of which is
        // uploads/scan.pdf: its middle is in that file.
        let packs = home.packsLargestFirst("acme")
        try #require(packs.count == 2)
        let path = "\(home.store)/\(packs[0])"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x80
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let target = "\(home.root)/r"
        let run = home.lethe("restore", "acme", "--target", target)
        #expect(run.status == 3, "\(run.output)")
        #expect(run.stderr.contains(packs[0]))
        #expect(!FileManager.default.fileExists(atPath: "\(target)/uploads/scan.pdf"))
        let leftovers = (FileManager.default.subpaths(atPath: target) ?? []).filter { $0.contains(".lethe-restore") }
        #expect(leftovers == [])
    }
}

/// Sources that hold things a backup must skip without hanging or failing the whole tenant.
@Suite struct SourceEdgeCaseTests {
    @Test func fifoAndNonUTF8NameAreSkippedAndReportedAsPartial() throws {
        let home = try E2EHome()
        let source = "\(home.data)/odd"
        try home.write("\(source)/fine.txt", "fine\n")
        #expect(mkfifo("\(source)/pipe", 0o644) == 0)
        let badName: [UInt8] = Array("\(source)/bad".utf8) + [0xFF] + Array("name".utf8) + [0]
        let created = badName.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { open($0, O_CREAT | O_WRONLY, 0o644) }
        }
        try #require(created >= 0)
        close(created)
        defer {
            _ = badName.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { unlink($0) }
            }
        }
        #expect(home.lethe("tenant", "add", "odd", "--source", "dir:\(source)").status == 0)
        let run = home.lethe("backup", "odd", "--json")
        #expect(run.status == 1, "\(run.output)")
        let result = try onlyTenantResult(run)
        #expect(result["status"] as? String == "partial")
        #expect(result["snapshot"] as? String != nil, "a snapshot of everything else was written")
        let errors = try #require((result["summary"] as? [String: Any])?["errors"] as? [String])
        #expect(errors.count == 2, "\(errors)")
        #expect(errors.contains { $0.contains("not valid UTF-8") })
        #expect(errors.contains { $0.contains("pipe") && $0.contains("not a regular file") })
        let target = "\(home.root)/r"
        #expect(home.lethe("restore", "odd", "--target", target).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["fine.txt"])
    }

    @Test func commandSourceOutputIsRestoredByteForByte() throws {
        let home = try E2EHome()
        #expect(home.lethe("tenant", "add", "dump", "--source", "out=cmd:printf hello").status == 0)
        let run = home.lethe("backup", "dump", "--json")
        #expect(run.status == 0, "\(run.output)")
        #expect(try summaryOf(run)["bytesRead"] as? Int == 5)
        let target = "\(home.root)/r"
        #expect(home.lethe("restore", "dump", "--target", target).status == 0)
        #expect(FileManager.default.contents(atPath: "\(target)/out") == Data("hello".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["out"])
    }

    @Test func failingCommandSourceFailsOnlyItsTenantInABackupOfAll() throws {
        let home = try E2EHome()
        try home.addTenant("good")
        #expect(home.lethe("tenant", "add", "bad", "--source", "out=cmd:false").status == 0)
        let run = home.lethe("backup", "--all", "--json")
        #expect(run.status == 1)
        let object = try #require(try run.json() as? [String: Any])
        #expect(object["failed"] as? Int == 1)
        let tenants = try #require(object["tenants"] as? [[String: Any]])
        let bad = try #require(tenants.first { $0["tenant"] as? String == "bad" })
        let good = try #require(tenants.first { $0["tenant"] as? String == "good" })
        #expect(bad["status"] as? String == "failed" && bad["snapshot"] is NSNull)
        #expect(good["status"] as? String == "succeeded" && good["snapshot"] as? String != nil)
        #expect(home.objects("tenants/bad/snapshots").isEmpty)
        #expect(home.objects("locks/bad").isEmpty, "a failed backup releases its lock")
    }
}

/// The catalog is derived data: rebuilt from the store, it serves unchanged detection as well
/// as the original did.
@Suite struct CatalogDerivedDataTests {
    @Test func backupAfterARebuiltCatalogStillSkipsUnchangedFiles() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        let first = try onlyTenantResult(home.lethe("backup", "acme", "--json"))
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: "\(home.home)/catalog.sqlite\(suffix)") }
        #expect(home.lethe("index", "rebuild").status == 0)
        let run = home.lethe("backup", "acme", "--json")
        #expect(run.status == 0)
        let second = try onlyTenantResult(run)
        #expect(second["parent"] as? String == first["snapshot"] as? String)
        let summary = try summaryOf(run)
        #expect(summary["filesUnchanged"] as? Int == 7)
        #expect(summary["bytesRead"] as? Int == 0)
        #expect(summary["filesNew"] as? Int == 0 && summary["filesChanged"] as? Int == 0)
    }

    static func removeCatalog(_ home: E2EHome) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: "\(home.home)/catalog.sqlite\(suffix)") }
    }

    /// docs/operations.md: a lost catalog is recreated with `lethe index rebuild`. Until then, a
    /// command naming a tenant either works from the store (the truth) or says to rebuild: it
    /// does not fail on an internal SQLite constraint.
    @Test func tenantCommandsAfterTheCatalogIsLostWorkOrPointToIndexRebuild() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe("backup", "acme").status == 0)
        for arguments in [["snapshots", "acme", "--json"], ["backup", "acme"], ["restore", "acme", "--target", "\(home.root)/r"]] {
            Self.removeCatalog(home)
            let run = home.lethe(arguments)
            #expect(run.status == 0 || run.output.contains("index rebuild"), "\(arguments): \(run.output)")
            #expect(!run.output.contains("FOREIGN KEY"), "\(arguments): \(run.output)")
        }
    }

    /// The nightly run is what keeps backups happening. With the catalog file gone it must
    /// either back the tenants up (they are all in the store) or fail loudly; reporting success
    /// with no tenant at all would stop every backup without anyone noticing.
    @Test func lostCatalogNeverTurnsTheNightlyRunIntoASilentNoOp() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        #expect(home.lethe(["backup", "acme"], environment: ["LETHE_NOW": "2026-03-01T02:00:00Z"]).status == 0)
        Self.removeCatalog(home)
        let run = home.lethe(["nightly", "--json"], environment: ["LETHE_NOW": "2026-03-02T02:00:00Z"])
        let snapshots = home.objects("tenants/acme/snapshots").count
        #expect(run.status != 0 || snapshots == 2, "nightly exited \(run.status) with \(snapshots) snapshot(s): \(run.output)")
    }
}
