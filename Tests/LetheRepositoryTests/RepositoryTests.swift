import Foundation
import LetheStore
import Testing
@testable import LetheRepository

@Suite struct RepositoryTests {
    let fixture = try! RepositoryFixture()

    func snapshot(_ tenant: String, time: String = "2026-03-01T02:00:00.000Z", tree: String = String(repeating: "ab", count: 32)) -> Snapshot {
        var summary = BackupSummary()
        summary.filesNew = 3
        summary.errors = ["/x: unreadable"]
        return Snapshot(
            tenant: tenant, time: time, tree: tree, parent: nil, host: "h", sources: ["dir:/srv/\(tenant)"],
            program: "lethe-tests", summary: summary)
    }

    // MARK: Index

    @Test func writeIndexThenLoadIndexRoundTrips() throws {
        let repository = try fixture.repository("acme")
        let (pack1, entries1, size1) = try writePack(repository, blobs: [testBytes(10, seed: 1), testBytes(20, seed: 2)], indexed: false)
        let (pack2, entries2, size2) = try writePack(repository, blobs: [testBytes(30, seed: 3)], indexed: false)
        let contents = IndexContents(packs: [
            .init(id: pack1, size: size1, entries: entries1), .init(id: pack2, size: size2, entries: entries2),
        ])
        let (indexID, _) = try repository.writeIndex(contents)
        #expect(try repository.readIndex(indexID) == contents)
        #expect(try fixture.store.list(prefix: Layout.indexPrefix(repository.tenant)).map(\.key) == [Layout.index(repository.tenant, indexID)])

        let reopened = try fixture.repository("acme")
        #expect(reopened.index.locations.isEmpty)
        try reopened.loadIndex()
        #expect(reopened.index.files == [indexID])
        #expect(reopened.index.packs == [pack1: size1, pack2: size2])
        for entry in entries1 + entries2 { #expect(reopened.index.location(of: entry.id) == entry.location) }
        #expect(reopened.index.locations.count == 3)
    }

    @Test func loadIndexMergesEveryIndexFile() throws {
        let repository = try fixture.repository("acme")
        let (_, first, _) = try writePack(repository, blobs: [testBytes(10, seed: 1)])
        let (_, second, _) = try writePack(repository, blobs: [testBytes(10, seed: 2)])
        let reopened = try fixture.repository("acme")
        try reopened.loadIndex()
        #expect(reopened.index.files.count == 2)
        #expect(reopened.index.contains(first[0].id) && reopened.index.contains(second[0].id))
    }

    @Test func anIndexFileOfAnotherTenantIsRejected() throws {
        let a = try fixture.repository("a")
        let b = try fixture.repository("b")
        let (indexID, _) = try b.writeIndex(IndexContents())
        try fixture.store.put(Layout.index(a.tenant, indexID), try fixture.store.get(Layout.index(b.tenant, indexID)))
        let error = #expect(throws: IntegrityViolation.self) { try a.loadIndex() }
        #expect(error?.object == Layout.index(a.tenant, indexID))
    }

    // MARK: Snapshots

    @Test func saveSnapshotThenLoadSnapshotRoundTrips() throws {
        let repository = try fixture.repository("acme")
        let original = snapshot("acme")
        let (id, size) = try repository.saveSnapshot(original)
        #expect(try fixture.store.size(of: Layout.snapshot(repository.tenant, id)) == size)
        let reopened = try fixture.repository("acme")
        #expect(try reopened.loadSnapshot(id) == original)
        #expect(try reopened.snapshotIDs() == [id])
    }

    @Test func snapshotsAreListedNewestFirstAndCanBeDeleted() throws {
        let repository = try fixture.repository("acme")
        let (old, _) = try repository.saveSnapshot(snapshot("acme", time: "2026-01-01T00:00:00.000Z"))
        let (new, _) = try repository.saveSnapshot(snapshot("acme", time: "2026-02-01T00:00:00.000Z"))
        let (mid, _) = try repository.saveSnapshot(snapshot("acme", time: "2026-01-15T00:00:00.000Z"))
        #expect(try repository.snapshots().map(\.0) == [new, mid, old])
        try repository.deleteSnapshot(mid)
        #expect(try repository.snapshots().map(\.0) == [new, old])
        #expect(throws: ObjectNotFound.self) { _ = try repository.loadSnapshot(mid) }
    }

    @Test func aSnapshotCopiedFromAnotherTenantIsRejected() throws {
        let a = try fixture.repository("a")
        let b = try fixture.repository("b")
        let (id, _) = try b.saveSnapshot(snapshot("b"))
        let key = Layout.snapshot(a.tenant, id)
        try fixture.store.put(key, try fixture.store.get(Layout.snapshot(b.tenant, id)))
        let error = #expect(throws: IntegrityViolation.self) { _ = try a.loadSnapshot(id) }
        #expect(error?.object == key)
        #expect(throws: IntegrityViolation.self) { _ = try a.snapshots() }
    }

    @Test func aSnapshotRenamedWithinTheTenantIsRejected() throws {
        let repository = try fixture.repository("acme")
        let (id, _) = try repository.saveSnapshot(snapshot("acme"))
        let renamed = try SnapshotID.random()
        try fixture.store.put(Layout.snapshot(repository.tenant, renamed), try fixture.store.get(Layout.snapshot(repository.tenant, id)))
        #expect(throws: IntegrityViolation.self) { _ = try repository.loadSnapshot(renamed) }
    }

    @Test func anAuthenticSnapshotNamingAnotherTenantOrNoTreeIsRejected() throws {
        let repository = try fixture.repository("acme")
        for bad in [snapshot("globex"), snapshot("acme", tree: "not-hex")] {
            let (id, _) = try repository.saveSnapshot(bad)
            let error = #expect(throws: IntegrityViolation.self) { _ = try repository.loadSnapshot(id) }
            #expect(error?.object == Layout.snapshot(repository.tenant, id))
        }
    }

    // MARK: Trees

    @Test func aTreeBlobThatDoesNotMatchItsIDIsRejected() throws {
        let repository = try fixture.repository("acme")
        let tree = Tree(nodes: [Node(name: "a", kind: .symlink, mode: 0o777, modified: FileTime(seconds: 0, nanoseconds: 0),
                                     changed: FileTime(seconds: 0, nanoseconds: 0), target: "b")])
        let bytes = tree.encoded()
        let wrongID = try repository.keys.blobID(for: [1, 2, 3])
        let writer = try PackWriter(keys: repository.keys, store: repository.store)
        let entry = try bytes.withUnsafeBytes { try writer.add($0, id: wrongID, type: .tree) }
        let size = try writer.finish()
        try repository.writeIndex(IndexContents(packs: [.init(id: writer.id, size: size, entries: [entry])]))
        #expect(try repository.readBlob(wrongID) == bytes, "the blob itself authenticates")
        #expect(throws: IntegrityViolation.self) { _ = try repository.loadTree(wrongID) }
    }

    // MARK: Layout

    @Test func layoutClassifiesEveryKindOfKey() throws {
        let acme = try TenantID("acme")
        let pack = try PackID.random(), index = try IndexID.random(), snapshot = try SnapshotID.random()
        #expect(Layout.classify(Layout.record(acme), tenant: acme) == .record)
        #expect(Layout.classify(Layout.pack(acme, pack), tenant: acme) == .pack(pack))
        #expect(Layout.classify(Layout.index(acme, index), tenant: acme) == .index(index))
        #expect(Layout.classify(Layout.snapshot(acme, snapshot), tenant: acme) == .snapshot(snapshot))
        #expect(Layout.classify(Layout.pack(acme, pack), tenant: try TenantID("other")) == .unknown)
        let misplaced = try ObjectKey("tenants/acme/data/00/\(pack.hex)")
        #expect(pack.firstByte == 0 || Layout.classify(misplaced, tenant: acme) == .unknown)
        for stray in ["tenants/acme/stray", "tenants/acme/index/abc", "tenants/acme/snapshots/x/y", "locks/acme/x"] {
            #expect(Layout.classify(try ObjectKey(stray), tenant: acme) == .unknown, "\(stray)")
        }
    }
}
