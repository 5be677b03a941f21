import Foundation
import Testing

/// Tampering, truncation, missing objects and objects swapped between tenants are found,
/// named, and reported with exit code 3; nothing damaged is restored.
@Suite struct IntegrityTests {
    /// A home with tenants a and b backed up.
    func twoTenants() throws -> E2EHome {
        let home = try E2EHome()
        try home.addTenant("a")
        try home.addTenant("b")
        #expect(home.lethe("backup", "--all").status == 0)
        return home
    }

    func packs(_ home: E2EHome, _ tenant: String) -> [String] {
        home.packsLargestFirst(tenant)
    }

    func flipByte(_ path: String, at offset: Int? = nil) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let index = offset ?? bytes.count / 2
        bytes[index] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func flippedByteInAPackIsFoundByReadDataAndNamed() throws {
        let home = try twoTenants()
        let pack = try #require(packs(home, "a").first)
        try flipByte("\(home.store)/\(pack)", at: 200)
        #expect(home.lethe("verify", "a").status == 0, "the structure alone is intact")
        let run = home.lethe("verify", "a", "--read-data")
        #expect(run.status == 3)
        #expect(run.stdout.contains(pack))
        #expect(home.lethe("verify", "b", "--read-data").status == 0, "tenant b is not affected")
    }

    @Test func restoreOfDamagedDataFailsWithAnIntegrityError() throws {
        let home = try twoTenants()
        let pack = try #require(packs(home, "a").first)
        try flipByte("\(home.store)/\(pack)", at: 200)
        let run = home.lethe("restore", "a", "--target", "\(home.root)/r")
        #expect(run.status == 3, "\(run.output)")
        #expect(run.stderr.contains("integrity violation") && run.stderr.contains(pack))
    }

    @Test func truncatedPackIsFoundByTheStructuralCheck() throws {
        let home = try twoTenants()
        let pack = try #require(packs(home, "a").first)
        let path = "\(home.store)/\(pack)"
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        truncate(path, off_t(size - 10))
        let run = home.lethe("verify", "a")
        #expect(run.status == 3)
        #expect(run.stdout.contains(pack))
    }

    @Test func missingIndexFileLeavesBlobsThatSnapshotsNeedInNoIndex() throws {
        let home = try twoTenants()
        for index in home.objects("tenants/a/index") { try FileManager.default.removeItem(atPath: "\(home.store)/\(index)") }
        let run = home.lethe("verify", "a")
        #expect(run.status == 3)
        #expect(run.stdout.contains("in no index") || run.stdout.contains("lost"))
    }

    @Test func missingPackIsReported() throws {
        let home = try twoTenants()
        let pack = try #require(packs(home, "a").first)
        try FileManager.default.removeItem(atPath: "\(home.store)/\(pack)")
        let run = home.lethe("verify", "a")
        #expect(run.status == 3 && run.stdout.contains("\(pack): missing"))
    }

    @Test func packCopiedInFromAnotherTenantIsReported() throws {
        let home = try twoTenants()
        let foreign = try #require(packs(home, "b").first)
        let copied = foreign.replacingOccurrences(of: "tenants/b/", with: "tenants/a/")
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: "\(home.store)/\(copied)").deletingLastPathComponent().path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(home.store)/\(foreign)", toPath: "\(home.store)/\(copied)")
        let run = home.lethe("verify", "a")
        #expect(run.status == 3)
        #expect(run.stdout.contains(copied))
    }

    @Test func packReplacedByAnotherTenantsPackUnderItsOwnNameIsReported() throws {
        let home = try twoTenants()
        let own = try #require(packs(home, "a").first)
        let foreign = try #require(packs(home, "b").first)
        try FileManager.default.removeItem(atPath: "\(home.store)/\(own)")
        try FileManager.default.copyItem(atPath: "\(home.store)/\(foreign)", toPath: "\(home.store)/\(own)")
        let run = home.lethe("verify", "a", "--read-data")
        #expect(run.status == 3)
        #expect(run.stdout.contains(own))
    }

    @Test func snapshotCopiedInFromAnotherTenantIsReported() throws {
        let home = try twoTenants()
        let foreign = try #require(home.objects("tenants/b/snapshots").first)
        let copied = foreign.replacingOccurrences(of: "tenants/b/", with: "tenants/a/")
        try FileManager.default.copyItem(atPath: "\(home.store)/\(foreign)", toPath: "\(home.store)/\(copied)")
        let run = home.lethe("verify", "a")
        #expect(run.status == 3)
        #expect(run.stdout.contains(copied))
    }

    @Test func swappedSnapshotObjectsWithinATenantAreReported() throws {
        let home = try E2EHome()
        let source = try home.addTenant("a")
        home.lethe("backup", "a")
        try home.write("\(source)/docs/notes.md", "second\n")
        home.lethe("backup", "a")
        let snapshots = home.objects("tenants/a/snapshots")
        try #require(snapshots.count == 2)
        let first = try Data(contentsOf: URL(fileURLWithPath: "\(home.store)/\(snapshots[0])"))
        let second = try Data(contentsOf: URL(fileURLWithPath: "\(home.store)/\(snapshots[1])"))
        try first.write(to: URL(fileURLWithPath: "\(home.store)/\(snapshots[1])"))
        try second.write(to: URL(fileURLWithPath: "\(home.store)/\(snapshots[0])"))
        let run = home.lethe("verify", "a")
        #expect(run.status == 3)
        #expect(run.stdout.contains(snapshots[0]) && run.stdout.contains(snapshots[1]))
    }
}
