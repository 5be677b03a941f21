import Foundation
import LetheCrypto
import LetheKeys
import LetheStore

/// One tenant's encrypted repository in the store, opened with the tenant's DEK.
///
/// Everything is read from and written to the store; nothing here touches the catalog. An
/// instance belongs to one thread at a time (backup runs tenants in parallel, one repository
/// each).
public final class Repository: @unchecked Sendable {
    public let tenant: TenantID
    public let store: ObjectStore
    public let keys: TenantKeys
    public let chunker: Chunker
    /// How new blobs are stored (reading understands every blob, compressed or not).
    public let compression: BlobCompression
    public private(set) var index = BlobIndex() {
        didSet { treeRuns.indexChanged() }
    }
    private let treeRuns = TreeRuns()

    public init(store: ObjectStore, key: DataEncryptionKey, compression: BlobCompression = .standard) throws {
        tenant = key.tenant
        self.store = store
        self.compression = compression
        keys = try TenantKeys(key)
        chunker = Chunker(gear: keys.gear)
    }

    // MARK: Sealed objects

    public func putSealed(_ plaintext: [UInt8], kind: ObjectKind, name: String, at key: ObjectKey) throws -> Int {
        let sealed = try seal(plaintext, kind: kind, name: name)
        try store.put(key, sealed)
        return sealed.count
    }

    /// The object `putSealed` stores, for a caller that stores many at once.
    public func seal(_ plaintext: [UInt8], kind: ObjectKind, name: String) throws -> [UInt8] {
        try SealedObject.seal(plaintext, kind: kind, name: name, keys: keys)
    }

    public func getSealed(kind: ObjectKind, name: String, at key: ObjectKey) throws -> [UInt8] {
        try SealedObject.open(try store.get(key), kind: kind, name: name, keys: keys, key: key)
    }

    // MARK: Index

    /// Reads every index file of the tenant into `index`.
    public func loadIndex() throws {
        var loaded = BlobIndex()
        for object in try store.list(below: Layout.indexPrefix(tenant)) {
            guard case .index(let id) = Layout.classify(object.key, tenant: tenant) else { continue }
            loaded.add(try readIndex(id), file: id)
        }
        index = loaded
    }

    public func readIndex(_ id: IndexID) throws -> IndexContents {
        let key = Layout.index(tenant, id)
        let plaintext = try getSealed(kind: .index, name: id.hex, at: key)
        return try IndexContents.decode(plaintext, what: "index \(key)")
    }

    /// Writes an index file for `contents` and merges it into `index`.
    @discardableResult
    public func writeIndex(_ contents: IndexContents) throws -> (IndexID, Int) {
        let id = try IndexID.random()
        let size = try putSealed(contents.encoded(), kind: .index, name: id.hex, at: Layout.index(tenant, id))
        index.add(contents, file: id)
        return (id, size)
    }

    /// Replaces the in-memory index (after prune rewrote the index files).
    func replaceIndex(_ replacement: BlobIndex) {
        index = replacement
    }

    // MARK: Blobs and packs

    /// The plaintext of blob `id`, authenticated.
    public func readBlob(_ id: BlobID) throws -> [UInt8] {
        guard let location = index.location(of: id) else {
            throw IntegrityViolation(object: tenant.storePrefix, problem: "references blob \(id.short), which is in no index (lost)")
        }
        let key = Layout.pack(tenant, location.pack)
        let sealed: [UInt8]
        do {
            sealed = try store.get(key, range: location.offset..<(location.offset + location.sealedLength))
        } catch is ObjectNotFound {
            throw IntegrityViolation(object: key, problem: "is missing (holds blob \(id.short))")
        } catch is ObjectTooShort {
            throw IntegrityViolation(object: key, problem: "is truncated (blob \(id.short) lies beyond its end)")
        }
        return try sealed.withUnsafeBytes { try openBlob($0, id: id, location: location, packKey: nil) }
    }

    /// Decrypts one sealed blob; `packKey` may be passed when many blobs of one pack are read.
    public func openBlob(
        _ sealed: UnsafeRawBufferPointer, id: BlobID, location: BlobLocation, packKey: SymmetricKey?
    ) throws -> [UInt8] {
        guard location.flags & ~BlobCompression.flag == 0 else {
            throw IntegrityViolation(object: Layout.pack(tenant, location.pack), problem: "blob \(id.short) has flags \(location.flags) this version does not understand")
        }
        let key = try packKey ?? Pack.key(pack: location.pack, keys: keys)
        let aad = Pack.blobAssociatedData(id, location, tenant: tenant)
        do {
            let opened = try aad.withUnsafeBytes { ad in
                try AESGCM.open(sealed, key: key, nonce: Pack.blobNonce(offset: location.offset), authenticating: ad)
            }
            guard location.isCompressed else { return opened }
            do {
                return try BlobCompression.decompress(opened, plainLength: location.plainLength)
            } catch {
                // Authenticated, yet not a block of that length: written so by a broken writer.
                throw IntegrityViolation(
                    object: Layout.pack(tenant, location.pack), problem: "blob \(id.short) does not decompress: \(error)")
            }
        } catch CryptoError.authenticationFailure {
            throw IntegrityViolation(
                object: Layout.pack(tenant, location.pack), problem: "blob \(id.short) at offset \(location.offset) does not authenticate")
        } catch CryptoError.invalidInput {
            throw IntegrityViolation(object: Layout.pack(tenant, location.pack), problem: "blob \(id.short) is truncated")
        }
    }

    public func packKey(_ pack: PackID) throws -> SymmetricKey {
        try Pack.key(pack: pack, keys: keys)
    }

    /// The header of a pack, read from its end and authenticated.
    public func readPackHeader(_ pack: PackID) throws -> (entries: [PackEntry], size: Int) {
        let key = Layout.pack(tenant, pack)
        guard let size = try store.size(of: key) else { throw IntegrityViolation(object: key, problem: "is missing") }
        let minimum = Pack.preamble.count + AESGCM.tagByteCount + 4
        guard size >= minimum else { throw IntegrityViolation(object: key, problem: "is truncated (\(size) bytes)") }
        guard try store.get(key, range: 0..<Pack.preamble.count) == Pack.preamble else {
            throw IntegrityViolation(object: key, problem: "does not start with the pack marker (damaged or not a pack)")
        }
        let lengthBytes = try store.get(key, range: (size - 4)..<size)
        let length = Int(lengthBytes[0]) | Int(lengthBytes[1]) << 8 | Int(lengthBytes[2]) << 16 | Int(lengthBytes[3]) << 24
        guard length >= AESGCM.tagByteCount, length <= size - 4 - Pack.preamble.count else {
            throw IntegrityViolation(object: key, problem: "has an impossible header length (truncated or not a pack)")
        }
        let sealed = try store.get(key, range: (size - 4 - length)..<(size - 4))
        let plaintext: [UInt8]
        do {
            plaintext = try AESGCM.open(sealed, key: try packKey(pack), nonce: Pack.headerNonce,
                                        authenticating: Pack.headerAssociatedData(pack, tenant: tenant))
        } catch CryptoError.authenticationFailure {
            throw IntegrityViolation(object: key, problem: "header does not authenticate (modified, truncated, or not this tenant's pack)")
        }
        let entries = try Pack.decodeHeader(plaintext, pack: pack, what: "pack \(key)")
        var expected = Pack.preamble.count
        for entry in entries {
            guard entry.location.offset == expected else {
                throw IntegrityViolation(object: key, problem: "header lists blobs that do not tile the pack")
            }
            expected += entry.location.sealedLength
        }
        guard expected == size - 4 - length else {
            throw IntegrityViolation(object: key, problem: "header does not account for every byte")
        }
        return (entries, size)
    }

    /// Calls `body` with each piece of a file's content, in order, each authenticated as it is
    /// read (through `reader`, when the caller planned its reads); throws if the pieces do not
    /// add up to the size the snapshot records.
    public func readContent(
        of node: Node, path: String, reader: CoalescedBlobReader? = nil, _ body: ([UInt8]) throws -> Void
    ) throws {
        var total = 0
        for blob in node.content {
            let plaintext = try reader?.read(blob) ?? readBlob(blob)
            try body(plaintext)
            total += plaintext.count
        }
        guard total == node.size else {
            throw IntegrityViolation(object: tenant.storePrefix, problem: "file \(path): the snapshot lists \(node.size) bytes but its blobs hold \(total)")
        }
    }

    // MARK: Trees

    public func loadTree(_ id: BlobID) throws -> Tree {
        let bytes = try readTreeBlob(id)
        guard try keys.blobID(for: bytes) == id else {
            throw IntegrityViolation(object: tenant.storePrefix, problem: "tree \(id.short) does not match its id")
        }
        return try Tree.decode(bytes, what: "tree \(id.short)")
    }

    /// A tree's plaintext, authenticated, read with its neighbours (`TreeRuns`) when it can be.
    private func readTreeBlob(_ id: BlobID) throws -> [UInt8] {
        guard let location = index.location(of: id), location.type == .tree,
              let sealed = try treeRuns.sealed(at: location, index: index, read: { pack, range in
                  try store.get(Layout.pack(tenant, pack), range: range)
              })
        else { return try readBlob(id) }
        return try sealed.withUnsafeBytes { try openBlob($0, id: id, location: location, packKey: nil) }
    }

    // MARK: Snapshots

    public func snapshotIDs() throws -> [SnapshotID] {
        try store.list(below: Layout.snapshotPrefix(tenant)).compactMap { object in
            if case .snapshot(let id) = Layout.classify(object.key, tenant: tenant) { return id }
            return nil
        }
    }

    public func loadSnapshot(_ id: SnapshotID) throws -> Snapshot {
        let key = Layout.snapshot(tenant, id)
        return try Snapshot.decode(try getSealed(kind: .snapshot, name: id.hex, at: key), tenant: tenant, key: key)
    }

    /// Loads every snapshot, newest first.
    public func snapshots() throws -> [(SnapshotID, Snapshot)] {
        try snapshotIDs().map { ($0, try loadSnapshot($0)) }.sorted { $0.1.time > $1.1.time }
    }

    public func saveSnapshot(_ snapshot: Snapshot) throws -> (SnapshotID, Int) {
        try saveSnapshot(snapshot, as: try SnapshotID.random())
    }

    /// Saves `snapshot` under a given id (a purge's rewrite, whose id is derived so that a
    /// resumed purge finds it).
    @discardableResult
    public func saveSnapshot(_ snapshot: Snapshot, as id: SnapshotID) throws -> (SnapshotID, Int) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let size = try putSealed(Array(try encoder.encode(snapshot)), kind: .snapshot, name: id.hex, at: Layout.snapshot(tenant, id))
        return (id, size)
    }

    public func deleteSnapshot(_ id: SnapshotID) throws {
        try store.delete(Layout.snapshot(tenant, id))
    }
}
