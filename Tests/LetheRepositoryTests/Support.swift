import Foundation
import LetheCrypto
import LetheKeys
import LetheStore
@testable import LetheRepository

/// A keystore and a local store in a temporary directory, with repositories for tenants on
/// demand. Removed when released.
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

    func key(_ tenant: String) throws -> DataEncryptionKey {
        let id = try TenantID(tenant)
        if try keystore.keyInfo(for: id) == nil { try keystore.createKey(for: id) }
        return try keystore.unwrapKey(for: id)
    }

    func repository(_ tenant: String) throws -> Repository {
        try Repository(store: store, key: try key(tenant))
    }
}

/// Deterministic pseudo-random bytes for test data.
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E3779B97F4A7C15
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
