import LetheCrypto
import LetheStore
import Testing
@testable import LetheRepository

/// Every ciphertext is bound to tenant, kind and id.
@Suite struct SealedObjectTests {
    let fixture = try! RepositoryFixture()
    let where_ = try! ObjectKey("tenants/acme/snapshots/x")

    @Test func roundTrip() throws {
        let keys = try TenantKeys(try fixture.key("acme"))
        let sealed = try SealedObject.seal(Array("hello".utf8), kind: .snapshot, name: "n1", keys: keys)
        #expect(try SealedObject.open(sealed, kind: .snapshot, name: "n1", keys: keys, key: where_) == Array("hello".utf8))
    }

    @Test func openingAsAnotherTenantKindOrNameFails() throws {
        let keys = try TenantKeys(try fixture.key("acme"))
        let sealed = try SealedObject.seal(Array("hello".utf8), kind: .snapshot, name: "n1", keys: keys)
        let other = try TenantKeys(try fixture.key("globex"))
        let sameKeyOtherLabel = try TenantKeys(try fixture.key("acme"), labelledAs: try TenantID("globex"))
        #expect(throws: IntegrityViolation.self) { _ = try SealedObject.open(sealed, kind: .snapshot, name: "n1", keys: other, key: where_) }
        #expect(throws: IntegrityViolation.self) { _ = try SealedObject.open(sealed, kind: .snapshot, name: "n1", keys: sameKeyOtherLabel, key: where_) }
        #expect(throws: IntegrityViolation.self) { _ = try SealedObject.open(sealed, kind: .index, name: "n1", keys: keys, key: where_) }
        #expect(throws: IntegrityViolation.self) { _ = try SealedObject.open(sealed, kind: .snapshot, name: "n2", keys: keys, key: where_) }
    }

    @Test func everyFlippedBitAndEveryTruncationIsDetectedAndNamed() throws {
        let keys = try TenantKeys(try fixture.key("acme"))
        let sealed = try SealedObject.seal(Array("some content".utf8), kind: .index, name: "i", keys: keys)
        for position in [0, 4, 5, 6, 37, 38, 49, 50, sealed.count - 17, sealed.count - 1] {
            var damaged = sealed
            damaged[position] ^= 0x20
            do {
                _ = try SealedObject.open(damaged, kind: .index, name: "i", keys: keys, key: where_)
                Issue.record("byte \(position) flipped and accepted")
            } catch let violation as IntegrityViolation {
                #expect(violation.object == where_)
            }
        }
        for length in [0, 10, 49, 66, sealed.count - 1] {
            #expect(throws: IntegrityViolation.self) { _ = try SealedObject.open(Array(sealed.prefix(length)), kind: .index, name: "i", keys: keys, key: where_) }
        }
    }
}

@Suite struct PackTests {
    let fixture = try! RepositoryFixture()

    func writePack(_ repository: Repository, blobs: [[UInt8]]) throws -> (PackID, [PackEntry]) {
        let writer = try PackWriter(keys: repository.keys, store: repository.store)
        var entries: [PackEntry] = []
        for blob in blobs {
            entries.append(try blob.withUnsafeBytes { try writer.add($0, id: try repository.keys.blobID(for: $0), type: .data) })
        }
        let size = try writer.finish()
        #expect(try repository.store.size(of: Layout.pack(repository.tenant, writer.id)) == size)
        try repository.writeIndex(IndexContents(packs: [.init(id: writer.id, size: size, entries: entries)]))
        return (writer.id, entries)
    }

    @Test func headerAndBlobsReadBack() throws {
        let repository = try fixture.repository("acme")
        let blobs = [testBytes(1000, seed: 1), testBytes(5, seed: 2), []]
        let (pack, entries) = try writePack(repository, blobs: blobs)
        #expect(try repository.readPackHeader(pack).entries == entries)
        try repository.loadIndex()
        for (entry, blob) in zip(entries, blobs) { #expect(try repository.readBlob(entry.id) == blob) }
    }

    @Test func flippedBlobByteIsAnIntegrityViolationNamingThePack() throws {
        let repository = try fixture.repository("acme")
        let (pack, entries) = try writePack(repository, blobs: [testBytes(1000, seed: 1)])
        let key = Layout.pack(repository.tenant, pack)
        var bytes = try repository.store.get(key)
        bytes[entries[0].location.offset + 10] ^= 1
        try repository.store.put(key, bytes)
        try repository.loadIndex()
        #expect(throws: IntegrityViolation.self) { _ = try repository.readBlob(entries[0].id) }
    }

    @Test func truncatedPackHeaderIsRefused() throws {
        let repository = try fixture.repository("acme")
        let (pack, _) = try writePack(repository, blobs: [testBytes(1000, seed: 1)])
        let key = Layout.pack(repository.tenant, pack)
        try repository.store.put(key, Array(try repository.store.get(key).dropLast(3)))
        #expect(throws: IntegrityViolation.self) { _ = try repository.readPackHeader(pack) }
    }

    @Test func anotherTenantsPackDoesNotOpen() throws {
        let a = try fixture.repository("a")
        let b = try fixture.repository("b")
        let (pack, _) = try writePack(b, blobs: [testBytes(100, seed: 1)])
        try a.store.put(Layout.pack(a.tenant, pack), try b.store.get(Layout.pack(b.tenant, pack)))
        #expect(throws: IntegrityViolation.self) { _ = try a.readPackHeader(pack) }
    }
}
