import LetheStore
import Testing
@testable import LetheRepository

@Suite struct BlobWriterTests {
    let fixture = try! RepositoryFixture()

    @Test func equalContentIsStoredOnce() throws {
        let repository = try fixture.repository("acme")
        let writer = BlobWriter(repository: repository)
        let blob = testBytes(5000, seed: 1)
        let first = try blob.withUnsafeBytes { try writer.save($0, type: .data) }
        let second = try blob.withUnsafeBytes { try writer.save($0, type: .data) }
        #expect(first == second)
        #expect(writer.blobsAdded == 1 && writer.bytesAdded == 5000)
        let (indexID, contents) = try writer.commit()
        #expect(indexID != nil)
        #expect(contents.packs.count == 1 && contents.packs[0].entries.map(\.id) == [first])
    }

    @Test func blobsAlreadyInTheIndexAreNotStoredAgain() throws {
        let repository = try fixture.repository("acme")
        let blob = testBytes(5000, seed: 1)
        let first = BlobWriter(repository: repository)
        let id = try blob.withUnsafeBytes { try first.save($0, type: .data) }
        try first.commit()
        let reopened = try fixture.repository("acme")
        try reopened.loadIndex()
        let second = BlobWriter(repository: reopened)
        #expect(second.contains(id))
        try blob.withUnsafeBytes { _ = try second.save($0, type: .data) }
        #expect(second.blobsAdded == 0)
        let (indexID, contents) = try second.commit()
        #expect(indexID == nil && contents.packs.isEmpty, "nothing new, no index file")
        #expect(try fixture.packKeys(reopened).count == 1)
    }

    @Test func nothingIsIndexedBeforeCommit() throws {
        let repository = try fixture.repository("acme")
        let writer = BlobWriter(repository: repository)
        try testBytes(100, seed: 1).withUnsafeBytes { _ = try writer.save($0, type: .data) }
        try writer.flushPacks()
        #expect(try fixture.packKeys(repository).count == 1, "the pack is stored")
        #expect(try fixture.store.list(prefix: Layout.indexPrefix(repository.tenant)).isEmpty, "but not yet indexed")
        try writer.commit()
        #expect(try fixture.store.list(prefix: Layout.indexPrefix(repository.tenant)).count == 1)
    }

    @Test func packsCloseAtTheirTargetSize() throws {
        let repository = try fixture.repository("acme")
        let writer = BlobWriter(repository: repository)
        for seed in 0..<5 {
            try testBytes(4 << 20, seed: UInt64(seed)).withUnsafeBytes { _ = try writer.save($0, type: .data) }
        }
        let (_, contents) = try writer.commit()
        #expect(writer.packsWritten == 2)
        #expect(contents.packs.map { $0.entries.count } == [4, 1])
        #expect(contents.packs[0].size >= BlobWriter.packTargetSize)
        let reopened = try fixture.repository("acme")
        try reopened.loadIndex()
        #expect(try reopened.readBlob(contents.packs[1].entries[0].id) == testBytes(4 << 20, seed: 4))
    }
}
