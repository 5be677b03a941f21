import Foundation
import Testing

/// A backup or prune killed at any of several points leaves every committed snapshot intact;
/// the next run succeeds and the repository verifies.
@Suite struct CrashSafetyTests {
    static let crashStatus: Int32 = 86

    @Test(arguments: ["backup.pack-written#1", "backup.pack-written#2", "backup.index-written", "backup.snapshot-written"])
    func backupKilledMidWayThenRunAgain(point: String) throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme", bigFile: 24 << 20)
        let crashed = home.lethe(["backup", "acme"], environment: ["LETHE_CRASH_AT": point])
        #expect(crashed.status == Self.crashStatus, "\(crashed.output)")
        let listed = try #require(try home.lethe("snapshots", "acme", "--json").json() as? [[String: Any]])
        #expect(listed.count <= 1, "at most the snapshot whose write completed")
        #expect(home.lethe("backup", "acme").status == 0)
        let verify = home.lethe("verify", "acme", "--read-data")
        #expect(verify.status == 0, "\(verify.output)")
        #expect(home.lethe("restore", "acme", "--target", "\(home.root)/r").status == 0)
        #expect(SampleTree.differences(source, "\(home.root)/r") == [])
        #expect(home.objects("locks/acme").isEmpty, "the crashed backup's lock was found stale and removed")
    }

    @Test(arguments: ["prune.packs-written", "prune.index-written", "prune.index-deleted", "prune.pack-deleted"])
    func pruneKilledMidWayNeverLosesDataARemainingSnapshotNeeds(point: String) throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme", bigFile: 20 << 20)
        home.lethe("backup", "acme")
        // A second snapshot that changes most of the data, then forget the first.
        var random = SeededBytes(seed: 99)
        try home.write("\(source)/uploads/archive.bin", random.bytes(20 << 20))
        try home.write("\(source)/docs/notes.md", "night two\n")
        home.lethe("backup", "acme")
        #expect(home.lethe("tenant", "retention", "acme", "--keep-last", "1").status == 0)
        #expect(home.lethe("forget", "acme").status == 0)
        let crashed = home.lethe(["prune", "acme", "--max-unused", "0"], environment: ["LETHE_CRASH_AT": point])
        #expect(crashed.status == Self.crashStatus, "\(crashed.output)")
        let afterCrash = home.lethe("verify", "acme", "--read-data")
        #expect(afterCrash.status == 0, "\(afterCrash.output)")
        #expect(home.lethe("restore", "acme", "--target", "\(home.root)/r1").status == 0)
        #expect(SampleTree.differences(source, "\(home.root)/r1") == [])
        #expect(home.lethe("prune", "acme", "--max-unused", "0").status == 0)
        #expect(home.lethe("verify", "acme", "--read-data").status == 0)
        let final = home.lethe("verify", "acme", "--read-data")
        #expect(!final.stdout.contains("note:"), "a complete prune leaves no unreferenced pack")
        #expect(home.lethe("restore", "acme", "--target", "\(home.root)/r2").status == 0)
        #expect(SampleTree.differences(source, "\(home.root)/r2") == [])
    }

    @Test func pruneFreesTheDataOfForgottenSnapshots() throws {
        let home = try E2EHome()
        let source = try home.addTenant("acme", bigFile: 20 << 20)
        home.lethe("backup", "acme")
        var random = SeededBytes(seed: 7)
        try home.write("\(source)/uploads/archive.bin", random.bytes(20 << 20))
        home.lethe("backup", "acme")
        home.lethe("tenant", "retention", "acme", "--keep-last", "1")
        let dry = try #require(try home.lethe("forget", "acme", "--dry-run", "--json").json() as? [[String: Any]])
        #expect(dry.first?["removed"] as? Int == 1)
        #expect((try home.lethe("snapshots", "acme", "--json").json() as? [Any])?.count == 2, "a dry run removes nothing")
        home.lethe("forget", "acme")
        let prune = try #require(try home.lethe("prune", "acme", "--json").json() as? [[String: Any]])
        let result = try #require(prune.first?["result"] as? [String: Any])
        #expect((result["bytesFreed"] as? Int ?? 0) > 19 << 20)
        #expect(home.lethe("verify", "acme", "--read-data").status == 0)
    }
}
