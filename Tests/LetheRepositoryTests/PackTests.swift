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

    /// A pack of one blob built from docs/format.md by hand: `stored` is what is sealed (the
    /// plaintext, or an LZ4 block of it), `plainLength` what the header says the blob is, and
    /// `sealedFor` the location whose associated data the blob is sealed with (by default the
    /// one the header lists).
    func handMadePack(
        _ repository: Repository, _ plaintext: [UInt8], flags: UInt8, stored: [UInt8]? = nil, plainLength: Int? = nil,
        sealedFor: ((BlobLocation) -> BlobLocation)? = nil
    ) throws -> (PackID, PackEntry, Int) {
        let pack = try PackID.random()
        let key = try Pack.key(pack: pack, keys: repository.keys)
        let id = try repository.keys.blobID(for: plaintext)
        let stored = stored ?? plaintext
        let location = BlobLocation(
            pack: pack, type: .data, flags: flags, offset: 8, sealedLength: stored.count + 16, plainLength: plainLength ?? plaintext.count)
        let entry = PackEntry(id: id, location: location)
        var bytes = Pack.preamble
        bytes += try AESGCM.seal(
            stored, key: key, nonce: Pack.blobNonce(offset: 8),
            authenticating: Pack.blobAssociatedData(id, sealedFor?(location) ?? location, tenant: repository.tenant))
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

    /// docs/format.md: flags bit 0 means "compressed"; "a reader must refuse a set bit it does
    /// not understand".
    @Test(arguments: [2, 3, 0x80] as [UInt8])
    func aBlobFlagTheReaderDoesNotUnderstandIsRefused(_ flags: UInt8) throws {
        let repository = try fixture.repository("acme")
        let (pack, entry, _) = try handMadePack(repository, Array("maybe compressed".utf8), flags: flags)
        #expect(throws: (any Error).self, "the header is accepted") { _ = try repository.readPackHeader(pack) }
        #expect(throws: (any Error).self, "the blob is returned as if it were plain") { _ = try repository.readBlob(entry.id) }
    }

    // MARK: Compressed blobs

    @Test func aBlobThatShrinksIsStoredCompressedAndReadsBack() throws {
        let repository = try fixture.repository("acme")
        let text = sampleText(300_000, seed: 1)
        let random = testBytes(300_000, seed: 2)
        let (pack, entries, size) = try writePack(repository, blobs: [text, random, [1, 2, 3]], compression: .standard)
        #expect(entries.map(\.location.isCompressed) == [true, false, false])
        #expect(entries[0].location.sealedLength < text.count / 2)
        #expect(entries[0].location.plainLength == text.count)
        #expect(entries[1].location.sealedLength == random.count + 16)
        #expect(size < text.count + random.count)
        #expect(try repository.readPackHeader(pack).entries == entries)
        let reopened = try fixture.repository("acme")
        try reopened.loadIndex()
        #expect(try reopened.readBlob(entries[0].id) == text)
        #expect(try reopened.readBlob(entries[1].id) == random)
        #expect(try reopened.readBlob(entries[2].id) == [1, 2, 3])
    }

    @Test func aCompressedBlobBuiltByHandFromTheFormatReads() throws {
        let repository = try fixture.repository("acme")
        let text = sampleText(50_000, seed: 3)
        let block = try #require(LZ4.compress(text))
        let (pack, entry, _) = try handMadePack(repository, text, flags: 1, stored: block)
        #expect(try repository.readPackHeader(pack).entries == [entry])
        #expect(try repository.readBlob(entry.id) == text)
    }

    /// The uncompressed length is in the blob's associated data: a blob sealed for another
    /// length does not authenticate, even under a header that lists it.
    @Test func aCompressedBlobSealedForAnotherLengthDoesNotAuthenticate() throws {
        let repository = try fixture.repository("acme")
        let text = sampleText(50_000, seed: 3)
        let block = try #require(LZ4.compress(text))
        let (_, entry, _) = try handMadePack(repository, text, flags: 1, stored: block, sealedFor: { location in
            BlobLocation(pack: location.pack, type: location.type, flags: location.flags, offset: location.offset,
                         sealedLength: location.sealedLength, plainLength: location.plainLength + 1)
        })
        let error = #expect(throws: IntegrityViolation.self) { _ = try repository.readBlob(entry.id) }
        #expect(error?.problem.contains("does not authenticate") == true)
    }

    /// An authenticated block that does not decode to the length its header gives (a broken
    /// writer) is an integrity violation, and so is a plain blob flagged as compressed.
    @Test func aCompressedBlobThatDoesNotDecodeIsAnIntegrityViolation() throws {
        let repository = try fixture.repository("acme")
        let text = sampleText(50_000, seed: 3)
        let block = try #require(LZ4.compress(text))
        for (stored, length) in [(block, text.count - 1), (block, text.count + 1), (Array(block.dropLast()), text.count), (text, text.count)] {
            let (_, entry, _) = try handMadePack(repository, text, flags: 1, stored: stored, plainLength: length)
            let error = #expect(throws: IntegrityViolation.self) { _ = try repository.readBlob(entry.id) }
            #expect(error?.problem.contains("does not decompress") == true, "\(String(describing: error))")
        }
    }

    /// The header refuses a compressed blob that would decode to more than a chunk, or to
    /// more than its block can hold.
    @Test(arguments: [BlobCompression.maximumUncompressedLength + 1, 100 * 255 + 25])
    func aHeaderWithAnImpossibleUncompressedLengthIsRefused(_ plainLength: Int) throws {
        let entry = PackEntry(id: BlobID(bytes: [UInt8](repeating: 1, count: 32)), location: BlobLocation(
            pack: try PackID.random(), type: .data, flags: 1, offset: 8, sealedLength: 100 + 16, plainLength: plainLength))
        let error = #expect(throws: MalformedData.self) {
            _ = try Pack.decodeHeader(Pack.encodeHeader([entry]), pack: entry.location.pack, what: "pack header")
        }
        #expect(error?.reason.contains("impossible") == true)
    }
}
