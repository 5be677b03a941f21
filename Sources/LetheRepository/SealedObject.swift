import LetheCrypto
import LetheKeys
import LetheStore

/// The kinds of stand-alone encrypted objects (everything but packs).
public enum ObjectKind: UInt8, Sendable, CaseIterable {
    case snapshot = 1
    case index = 2
    case tenantRecord = 3
    case lock = 4
    case erasureLedger = 5

    var name: String {
        switch self {
        case .snapshot: return "snapshot"
        case .index: return "index"
        case .tenantRecord: return "tenant"
        case .lock: return "lock"
        case .erasureLedger: return "erasure-ledger"
        }
    }
}

/// A stand-alone encrypted object:
///
///     "LTHO" | version 0x01 | kind (1 byte) | salt (32) | nonce (12) | ciphertext ‖ tag (16)
///
/// sealed with AES-256-GCM under the per-object key derived from `salt`, with associated data
/// `AssociatedData(tenant, kind, name)` followed by the 50 header bytes. The header is thus
/// authenticated too, and an object renamed, moved to another tenant or relabelled fails.
package enum SealedObject {
    static let magic: [UInt8] = Array("LTHO".utf8)
    static let version: UInt8 = 1
    static let headerCount = 4 + 1 + 1 + 32 + 12

    package static func seal(_ plaintext: [UInt8], kind: ObjectKind, name: String, keys: TenantKeys) throws -> [UInt8] {
        let salt = try SystemRandom.bytes(count: 32)
        let nonce = try SystemRandom.bytes(count: AESGCM.nonceByteCount)
        var out = magic + [version, kind.rawValue] + salt + nonce
        let aad = AssociatedData.make(tenant: keys.tenant, kind: kind.name, id: Array(name.utf8), extra: out)
        try plaintext.withUnsafeBytes { pt in
            try aad.withUnsafeBytes { ad in
                try AESGCM.seal(pt, key: try keys.objectKey(salt: salt), nonce: nonce, authenticating: ad, appendingTo: &out)
            }
        }
        return out
    }

    /// The plaintext, or `IntegrityViolation` naming `key` when the object is not a genuine
    /// object of this tenant, kind and name.
    package static func open(_ sealed: [UInt8], kind: ObjectKind, name: String, keys: TenantKeys, key: ObjectKey) throws -> [UInt8] {
        guard sealed.count >= headerCount + AESGCM.tagByteCount else {
            throw IntegrityViolation(object: key, problem: "truncated (\(sealed.count) bytes)")
        }
        let header = Array(sealed[0..<headerCount])
        guard header[0..<4].elementsEqual(magic) else { throw IntegrityViolation(object: key, problem: "not a Lethe object") }
        guard header[4] == version else { throw IntegrityViolation(object: key, problem: "unknown format version \(header[4])") }
        guard header[5] == kind.rawValue else {
            throw IntegrityViolation(object: key, problem: "is not a \(kind.name) object")
        }
        let salt = Array(header[6..<38])
        let nonce = Array(header[38..<50])
        let aad = AssociatedData.make(tenant: keys.tenant, kind: kind.name, id: Array(name.utf8), extra: header)
        do {
            return try sealed.withUnsafeBytes { raw in
                try aad.withUnsafeBytes { ad in
                    try AESGCM.open(
                        UnsafeRawBufferPointer(rebasing: raw[headerCount...]), key: try keys.objectKey(salt: salt),
                        nonce: nonce, authenticating: ad)
                }
            }
        } catch CryptoError.authenticationFailure {
            throw IntegrityViolation(
                object: key, problem: "does not authenticate (modified, truncated, or not this tenant's \(kind.name) \(name))")
        }
    }
}

/// Whether `sealed`, an object of `tenant` named `name`, opens under the subkeys that `key`
/// yields when labelled as `tenant`. Used after a destruction to show that no key the service
/// holds decrypts a ciphertext kept from the destroyed tenant.
public func sealedObjectOpens(_ sealed: [UInt8], kind: ObjectKind, name: String, tenant: TenantID, key: DataEncryptionKey) -> Bool {
    guard let keys = try? TenantKeys(key, labelledAs: tenant), let objectKey = try? ObjectKey("probe") else { return false }
    return (try? SealedObject.open(sealed, kind: kind, name: name, keys: keys, key: objectKey)) != nil
}

/// Stored data that failed an integrity check, named by its object key.
public struct IntegrityViolation: KindedError, Equatable, Sendable, CustomStringConvertible {
    public let object: ObjectKey
    public let problem: String

    public init(object: ObjectKey, problem: String) {
        self.object = object
        self.problem = problem
    }

    public var kind: ErrorKind { .integrity }
    public var description: String { "integrity violation: \(object) \(problem)" }
}
