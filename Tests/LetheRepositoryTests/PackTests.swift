import LetheCrypto
import LetheStore
import Testing
@testable import LetheRepository

@Suite struct PackTests {
    let fixture = try! RepositoryFixture()

    @Test func theHeaderReadsBackAsWritten() throws {
        let repository = try fixture.repository("acme")
        let blobs = [testBytes(1000, seed: 1), testBytes(5, seed: 2), [], testBytes(70_000, seed: 3)]
        let (pack, entries, size) = try writePack(repository, blobs: blobs, indexed: false)
        let header = try repository.readPackHeader(pack)
        #expect(header.entries == entries)
        #expect(header.size == size)
        #expect(try repository.store.size(of: Layout.pack(repository.tenant, pack)) == size)
        #expect(entries.map(\.location.plainLength) == blobs.map(\.count))
        #expect(entries.map(\.location.offset) == [8, 8 + 1016, 8 + 1016 + 21, 8 + 1016 + 21 + 16])
    }

    @Test func thePackLayoutIsTheDocumentedOne() throws {
        let repository = try fixture.repository("acme")
        let (pack, entries, size) = try writePack(repository, blobs: [testBytes(100, seed: 1)], indexed: false)
        let bytes = try repository.store.get(Layout.pack(repository.tenant, pack))
        #expect(Array(bytes.prefix(8)) == Array("LTHPACK".utf8) + [1])
        let length = bytes.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(8 + entries[0].location.sealedLength + length + 4 == size)
        let key = Layout.pack(repository.tenant, pack)
        #expect(key.rawValue == "tenants/acme/data/\(String(pack.hex.prefix(2)))/\(pack.hex)")
    }

    @Test func readBlobReturnsThePlaintext() throws {
        let repository = try fixture.repository("acme")
        let blobs = [testBytes(1000, seed: 1), testBytes(5, seed: 2), []]
        let (_, entries, _) = try writePack(repository, blobs: blobs)
        let reopened = try fixture.repository("acme")
        try reopened.loadIndex()
        for (entry, blob) in zip(entries, blobs) {
            #expect(try reopened.readBlob(entry.id) == blob)
            #expect(try reopened.keys.blobID(for: blob) == entry.id)
        }
    }

    @Test func aFlippedByteInABlobIsAnIntegrityViolationNamingThePack() throws {
        let repository = try fixture.repository("acme")
        let (pack, entries, _) = try writePack(repository, blobs: [testBytes(1000, seed: 1), testBytes(10, seed: 2)])
        let key = Layout.pack(repository.tenant, pack)
        // One byte of the first blob's ciphertext, one of its tag.
        for offset in [entries[0].location.offset + 10, entries[0].location.offset + entries[0].location.sealedLength - 1] {
            try fixture.flip(key, at: offset)
            let error = #expect(throws: IntegrityViolation.self) { _ = try repository.readBlob(entries[0].id) }
            #expect(error?.object == key)
            #expect(try repository.readBlob(entries[1].id) == testBytes(10, seed: 2), "the other blob still reads")
            try fixture.flip(key, at: offset)
        }
        #expect(try repository.readBlob(entries[0].id) == testBytes(1000, seed: 1))
    }

    @Test func aBlobMissingFromTheIndexOrItsPackIsAnIntegrityViolation() throws {
        let repository = try fixture.repository("acme")
        #expect(throws: IntegrityViolation.self) { _ = try repository.readBlob(try repository.keys.blobID(for: [1, 2, 3])) }
        let (pack, entries, _) = try writePack(repository, blobs: [testBytes(100, seed: 1)])
        let key = Layout.pack(repository.tenant, pack)
        try repository.store.delete(key)
        let error = #expect(throws: IntegrityViolation.self) { _ = try repository.readBlob(entries[0].id) }
        #expect(error?.object == key)
    }

    @Test func aTruncatedPackIsRefused() throws {
        let repository = try fixture.repository("acme")
        let (pack, entries, size) = try writePack(repository, blobs: [testBytes(1000, seed: 1)])
        let key = Layout.pack(repository.tenant, pack)
        let original = try repository.store.get(key)
        for length in [0, 4, 8, 30, 8 + 1016, size - 5, size - 4, size - 1] {
            try repository.store.put(key, Array(original.prefix(length)))
            let error = #expect(throws: IntegrityViolation.self, "length \(length)") { _ = try repository.readPackHeader(pack) }
            #expect(error?.object == key)
        }
        try repository.store.put(key, Array(original.prefix(500)))
        #expect(throws: IntegrityViolation.self) { _ = try repository.readBlob(entries[0].id) }
    }

    @Test func aFlippedByteInTheHeaderOrItsLengthIsRefused() throws {
        let repository = try fixture.repository("acme")
        let (pack, _, size) = try writePack(repository, blobs: [testBytes(100, seed: 1)])
        let key = Layout.pack(repository.tenant, pack)
        for offset in [size - 40, size - 20, size - 5, size - 4, size - 3, size - 1] {
            try fixture.flip(key, at: offset, mask: 0x10)
            let error = #expect(throws: IntegrityViolation.self, "offset \(offset)") { _ = try repository.readPackHeader(pack) }
            #expect(error?.object == key)
            try fixture.flip(key, at: offset, mask: 0x10)
        }
        #expect(try repository.readPackHeader(pack).entries.count == 1)
    }

    @Test func anotherTenantsPackDoesNotOpen() throws {
        let a = try fixture.repository("a")
        let b = try fixture.repository("b")
        let (pack, entries, size) = try writePack(b, blobs: [testBytes(100, seed: 1)])
        let key = Layout.pack(a.tenant, pack)
        try a.store.put(key, try b.store.get(Layout.pack(b.tenant, pack)))
        let error = #expect(throws: IntegrityViolation.self) { _ = try a.readPackHeader(pack) }
        #expect(error?.object == key)
        // Even with an index that lists it, A cannot read B's blob.
        try a.writeIndex(IndexContents(packs: [.init(id: pack, size: size, entries: entries)]))
        #expect(throws: IntegrityViolation.self) { _ = try a.readBlob(entries[0].id) }
    }

    @Test func aPackRenamedToAnotherIDDoesNotOpen() throws {
        let repository = try fixture.repository("acme")
        let (pack, _, _) = try writePack(repository, blobs: [testBytes(100, seed: 1)])
        let renamed = try PackID.random()
        try repository.store.put(Layout.pack(repository.tenant, renamed), try repository.store.get(Layout.pack(repository.tenant, pack)))
        #expect(throws: IntegrityViolation.self) { _ = try repository.readPackHeader(renamed) }
    }

    @Test func anUnfinishedPackLeavesNothingInTheStore() throws {
        let repository = try fixture.repository("acme")
        do {
            let writer = try PackWriter(keys: repository.keys, store: repository.store)
            _ = try [UInt8](repeating: 1, count: 100).withUnsafeBytes { try writer.add($0, id: try repository.keys.blobID(for: $0), type: .data) }
        }
        #expect(try fixture.packKeys(repository).isEmpty)
        #expect(try FileSystem.listDirectory("\(fixture.store.root)/.staging").isEmpty)
    }

    /// A pack as a writer that sets blob flags would make it (PackWriter always writes 0).
    func handMadePack(_ repository: Repository, _ plaintext: [UInt8], flags: UInt8) throws -> (PackID, PackEntry, Int) {
        let pack = try PackID.random()
        let key = try Pack.key(pack: pack, keys: repository.keys)
        let id = try repository.keys.blobID(for: plaintext)
        let location = BlobLocation(
            pack: pack, type: .data, flags: flags, offset: 8, sealedLength: plaintext.count + 16, plainLength: plaintext.count)
        let entry = PackEntry(id: id, location: location)
        var bytes = Pack.preamble
        bytes += try AESGCM.seal(
            plaintext, key: key, nonce: Pack.blobNonce(offset: 8),
            authenticating: Pack.blobAssociatedData(id, location, tenant: repository.tenant))
        let header = try AESGCM.seal(
            Pack.encodeHeader([entry]), key: key, nonce: Pack.headerNonce,
            authenticating: Pack.headerAssociatedData(pack, tenant: repository.tenant))
        let length = UInt32(header.count)
        bytes += header + [UInt8(length & 0xff), UInt8(length >> 8 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 24)]
        try repository.store.put(Layout.pack(repository.tenant, pack), bytes)
        try repository.writeIndex(IndexContents(packs: [.init(id: pack, size: bytes.count, entries: [entry])]))
        return (pack, entry, bytes.count)
    }

    @Test func aPackBuiltByHandFromTheFormatReads() throws {
        let repository = try fixture.repository("acme")
        let (pack, entry, _) = try handMadePack(repository, Array("by the spec".utf8), flags: 0)
        #expect(try repository.readPackHeader(pack).entries == [entry])
        #expect(try repository.readBlob(entry.id) == Array("by the spec".utf8))
    }

    /// docs/format.md: flags bit 0 means "compressed", never set by version 1; "a reader must
    /// refuse a set bit it does not understand".
    @Test(arguments: [1, 2, 0x80] as [UInt8])
    func aBlobFlagTheReaderDoesNotUnderstandIsRefused(_ flags: UInt8) throws {
        let repository = try fixture.repository("acme")
        let (pack, entry, _) = try handMadePack(repository, Array("maybe compressed".utf8), flags: flags)
        #expect(throws: (any Error).self, "the header is accepted") { _ = try repository.readPackHeader(pack) }
        #expect(throws: (any Error).self, "the blob is returned as if it were plain") { _ = try repository.readBlob(entry.id) }
    }
}
