import LetheStore
import Testing
@testable import LetheRepository

@Suite struct CheckerTests {
    let fixture = try! RepositoryFixture()

    /// A repository with one snapshot of a small tree (two file blobs in one pack, two trees in another).
    func backedUp() throws -> Repository {
        let source = try fixture.directory("source")
        try FileSystem.makeDirectories("\(source)/sub")
        try FileSystem.writeAtomically(testBytes(100_000, seed: 1), to: "\(source)/a")
        try FileSystem.writeAtomically(Array("bee".utf8), to: "\(source)/sub/b")
        let repository = try fixture.repository("acme")
        _ = try fixture.backup(repository, source: source)
        return repository
    }

    func check(_ readData: Bool = true) throws -> Checker.Report {
        try Checker(repository: try fixture.repository("acme")).run(readPacks: { _ in readData })
    }

    /// The pack of the files' content.
    func dataPack(_ repository: Repository) throws -> ObjectKey {
        try repository.loadIndex()
        let packs = Set(repository.index.locations.values.filter { $0.type == .data }.map(\.pack))
        #expect(packs.count == 1)
        return Layout.pack(repository.tenant, try #require(packs.first))
    }

    @Test func aCleanRepositoryHasNoErrorsOrNotes() throws {
        let repository = try backedUp()
        let report = try check()
        #expect(report.errors == [] && report.notes == [])
        #expect(report.isClean)
        #expect(report.snapshots == 1 && report.trees == 2)
        #expect(report.packs == 2 && report.packsRead == 2)
        #expect(report.blobsRead == 4, "two data blobs, two trees")
        let packs = try fixture.packKeys(repository)
        #expect(report.bytesRead == (try packs.reduce(0) { $0 + (try fixture.store.size(of: $1) ?? 0) }))
        let structural = try check(false)
        #expect(structural.isClean && structural.packsRead == 0 && structural.blobsRead == 0)
    }

    @Test func aFlippedByteInAPackIsAnErrorNamingThePack() throws {
        let pack = try dataPack(try backedUp())
        try fixture.flip(pack, at: 8 + 5)
        let report = try check()
        #expect(!report.isClean)
        #expect(report.errors.contains { $0.contains(pack.rawValue) }, "\(report.errors)")
    }

    @Test func aFlippedByteInAPackHeaderIsFoundWithoutReadingData() throws {
        let pack = try dataPack(try backedUp())
        let size = try #require(try fixture.store.size(of: pack))
        try fixture.flip(pack, at: size - 10)
        let report = try check(false)
        #expect(report.errors.contains { $0.contains(pack.rawValue) }, "\(report.errors)")
    }

    @Test func aFlippedByteInThePackPreambleIsFoundWhenReadingData() throws {
        let pack = try dataPack(try backedUp())
        try fixture.flip(pack, at: 7)
        let report = try check()
        #expect(report.errors.contains { $0.contains(pack.rawValue) }, "a pack not starting with LTHPACK 0x01 passed: \(report.errors)")
    }

    @Test func aDeletedPackIsReportedMissing() throws {
        let pack = try dataPack(try backedUp())
        try fixture.store.delete(pack)
        let report = try check()
        #expect(report.errors.contains { $0.contains(pack.rawValue) && $0.contains("missing") }, "\(report.errors)")
    }

    @Test func aTruncatedPackIsReported() throws {
        let pack = try dataPack(try backedUp())
        try fixture.store.put(pack, Array(try fixture.store.get(pack).dropLast(1)))
        let report = try check(false)
        #expect(report.errors.contains { $0.contains(pack.rawValue) }, "\(report.errors)")
    }

    @Test(arguments: ["tenants/acme/stray", "tenants/acme/data/zz/not-a-pack", "tenants/acme/index/abc", "tenants/acme/snapshots/x/y"])
    func anUnknownObjectUnderTheTenantIsReported(_ stray: String) throws {
        _ = try backedUp()
        try fixture.store.put(try ObjectKey(stray), [1, 2, 3])
        let report = try check()
        #expect(report.errors.contains { $0.contains(stray) }, "\(report.errors)")
    }

    @Test func objectsOutsideTheTenantAreNotItsConcern() throws {
        _ = try backedUp()
        try fixture.store.put(try ObjectKey("tenants/acme2/stray"), [1])
        try fixture.store.put(try ObjectKey("locks/acme/x"), [1])
        #expect(try check().isClean)
    }

    @Test func anAuthenticPackThatNoIndexListsIsANoteNotAnError() throws {
        let repository = try backedUp()
        let (pack, _, _) = try writePack(repository, blobs: [testBytes(100, seed: 9)], indexed: false)
        let report = try check()
        #expect(report.errors == [])
        #expect(report.notes.contains { $0.contains(Layout.pack(repository.tenant, pack).rawValue) }, "\(report.notes)")
        #expect(report.isClean)
    }

    @Test func anUnindexedPackOfAnotherTenantIsAnError() throws {
        let repository = try backedUp()
        let other = try fixture.repository("globex")
        let (pack, _, _) = try writePack(other, blobs: [testBytes(100, seed: 9)], indexed: false)
        let key = Layout.pack(repository.tenant, pack)
        try fixture.store.put(key, try fixture.store.get(Layout.pack(other.tenant, pack)))
        let report = try check()
        #expect(report.errors.contains { $0.contains(key.rawValue) }, "\(report.errors)")
    }

    @Test func damagedIndexAndSnapshotObjectsAreNamed() throws {
        let repository = try backedUp()
        let index = try #require(try fixture.store.list(prefix: Layout.indexPrefix(repository.tenant)).first?.key)
        let snapshot = try #require(try fixture.store.list(prefix: Layout.snapshotPrefix(repository.tenant)).first?.key)
        try fixture.flip(snapshot, at: 60)
        #expect(try check().errors.contains { $0.contains(snapshot.rawValue) })
        try fixture.flip(index, at: 60)
        let report = try check()
        #expect(report.errors.contains { $0.contains(index.rawValue) }, "\(report.errors)")
    }

    @Test func aSnapshotWhoseDataIsInNoIndexIsReported() throws {
        let repository = try backedUp()
        for object in try fixture.store.list(prefix: Layout.indexPrefix(repository.tenant)) {
            try fixture.store.delete(object.key)
        }
        let report = try check()
        #expect(!report.isClean)
        #expect(report.errors.contains { $0.contains("no index") || $0.contains("lost") }, "\(report.errors)")
    }
}
