import Foundation
import LetheCrypto
import LetheKeys
import LetheStore
@testable import LetheRepository

/// A keystore (with real, wrapped tenant keys) and a local store in a temporary directory,
/// with repositories for tenants on demand. Removed when released.
final class RepositoryFixture {
    let root: String
    let keystore: Keystore
    let store: LocalStore

    init() throws {
        root = NSTemporaryDirectory() + "lethe-repo-test-" + UUID().uuidString
        try FileSystem.makeDirectories(root)
        keystore = try Keystore.create(directory: "\(root)/keys", provider: FileKEKProvider(directory: "\(root)/keys/kek"))
        store = try LocalStore(root: "\(root)/store")
    }

    deinit {
        try? FileSystem.removeTree(root)
    }

    /// The tenant's DEK, created in the keystore on first use.
    func key(_ tenant: String) throws -> DataEncryptionKey {
        let id = try TenantID(tenant)
        if try keystore.keyInfo(for: id) == nil { try keystore.createKey(for: id) }
        return try keystore.unwrapKey(for: id)
    }

    func keys(_ tenant: String) throws -> TenantKeys {
        try TenantKeys(try key(tenant))
    }

    /// A fresh `Repository` instance for the tenant (nothing loaded yet).
    func repository(_ tenant: String, compression: BlobCompression = .standard) throws -> Repository {
        try Repository(store: store, key: try key(tenant), compression: compression)
    }

    /// A new empty directory `name` below the fixture's root.
    func directory(_ name: String) throws -> String {
        let path = "\(root)/\(name)"
        try FileSystem.makeDirectories(path)
        return path
    }

    /// Backs up `source` (a directory whose entries become the snapshot root).
    func backup(
        _ repository: Repository, source: String, parent: Archiver.Result? = nil
    ) throws -> Archiver.Result {
        let options = Archiver.Options(
            host: "test-host", time: Date(), program: "lethe-tests", temporaryDirectory: "\(root)/tmp")
        let archiver = Archiver(repository: repository, options: options)
        return try archiver.backup(
            sources: [TenantSource(kind: .directory, location: source)],
            parent: parent.map { ($0.snapshotID, $0.snapshot) })
    }

    /// Every pack of the tenant in the store.
    func packKeys(_ repository: Repository) throws -> [ObjectKey] {
        try store.list(prefix: Layout.dataPrefix(repository.tenant)).map(\.key)
    }

    /// XORs `mask` into byte `offset` of the object at `key`.
    func flip(_ key: ObjectKey, at offset: Int, mask: UInt8 = 0x01) throws {
        var bytes = try store.get(key)
        bytes[offset] ^= mask
        try store.put(key, bytes)
    }
}

/// Writes one pack of `blobs` (data blobs) with `PackWriter`; returns its id and entries.
/// With `indexed`, also writes an index file listing it.
@discardableResult
func writePack(_ repository: Repository, blobs: [[UInt8]], indexed: Bool = true, compression: BlobCompression = .off) throws -> (PackID, [PackEntry], Int) {
    let writer = try PackWriter(keys: repository.keys, store: repository.store)
    var entries: [PackEntry] = []
    for blob in blobs {
        entries.append(try blob.withUnsafeBytes {
            try writer.add($0, id: try repository.keys.blobID(for: $0), type: .data, compression: compression)
        })
    }
    let size = try writer.finish()
    if indexed {
        try repository.writeIndex(IndexContents(packs: [.init(id: writer.id, size: size, entries: entries)]))
    }
    return (writer.id, entries, size)
}

/// Deterministic pseudo-random bytes (xorshift64) for test data.
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var out = [UInt8]()
    out.reserveCapacity(count + 8)
    while out.count < count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        withUnsafeBytes(of: state) { out.append(contentsOf: $0) }
    }
    return Array(out.prefix(count))
}
