import LetheCrypto
import LetheKeys
import LetheStore

/// The subkeys of one tenant's DEK, each derived with HKDF-SHA256 under its own label, so that
/// no key serves two purposes:
///
/// - `encryption`: the root of every per-object key (packs, snapshots, index files, records);
/// - `blobID`: the HMAC key that names blobs, so ids reveal nothing about content to anyone
///   without the tenant's key, and never match another tenant's;
/// - the chunker's gear table, so chunk boundaries (and thus sizes) depend on the tenant's key;
/// - `erasureSubject`: the HMAC key that hashes an erasure request's subject reference, so the
///   audit log can name the person without holding their reference, and the hash means nothing
///   once the tenant is destroyed;
/// - `erasureRules`: the HMAC key that digests an erasure request's rules with their values,
///   so that a DPO's signature binds the values a purge document shows redacted.
public struct TenantKeys: Sendable {
    public let tenant: TenantID
    public let dekID: String
    let encryption: SecureBytes
    let blobID: HMACSHA256
    let gear: [UInt64]
    let erasureSubject: HMACSHA256
    let erasureRules: HMACSHA256

    /// The subkeys of `key`. `labelledAs` derives them as if the key belonged to another
    /// tenant; destruction verification uses it to show that no key the service still holds
    /// opens a destroyed tenant's objects.
    public init(_ key: DataEncryptionKey, labelledAs label: TenantID? = nil) throws {
        let owner = label ?? key.tenant
        tenant = owner
        dekID = key.id
        func derive(_ purpose: String, _ count: Int) throws -> SecureBytes {
            try HKDF.deriveKey(
                inputKeyMaterial: key.secret, salt: [],
                info: Array("lethe/v1/\(purpose)".utf8) + [0] + Array(owner.rawValue.utf8), outputByteCount: count)
        }
        encryption = try derive("encryption", 32)
        blobID = try HMACSHA256(key: try derive("blob-id", 32))
        erasureSubject = try HMACSHA256(key: try derive("erasure-subject", 32))
        erasureRules = try HMACSHA256(key: try derive("erasure-rules", 32))
        gear = try derive("chunker-gear", 256 * 8).withUnsafeBytes { raw in
            (0..<256).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self).littleEndian }
        }
    }

    /// The id of a blob with this plaintext.
    public func blobID(for plaintext: UnsafeRawBufferPointer) throws -> BlobID {
        BlobID(bytes: try blobID.authenticationCode(for: plaintext))
    }

    public func blobID(for plaintext: [UInt8]) throws -> BlobID {
        try plaintext.withUnsafeBytes { try blobID(for: $0) }
    }

    /// The keyed hash of an erasure subject's reference: `HMAC-SHA256(erasureSubject, ref)`, hex.
    public func subjectHash(_ reference: String) throws -> String {
        Hex.encode(try erasureSubject.authenticationCode(for: Array(reference.utf8)))
    }

    /// The keyed digest of erasure rules as `encoded` spells them, values included:
    /// `HMAC-SHA256(erasureRules, encoded)`, hex. Keyed, because the values are personal data
    /// that a plain hash of an email address would give away to anyone who guesses it.
    public func rulesDigest(_ encoded: [UInt8]) throws -> String {
        Hex.encode(try erasureRules.authenticationCode(for: encoded))
    }

    /// The key of one object: `HKDF-SHA256(encryption, salt, "lethe/v1/object-key")`. Every
    /// object has its own random 256-bit salt, so no key (and no nonce under it) is reused.
    func objectKey(salt: [UInt8]) throws -> SymmetricKey {
        try SymmetricKey(HKDF.deriveKey(
            inputKeyMaterial: encryption, salt: salt, info: Array("lethe/v1/object-key".utf8), outputByteCount: 32))
    }
}

/// What every ciphertext is bound to: `lethe/v1`, the tenant, the object kind and the
/// object's id, NUL-separated, followed by whatever else the kind adds. An object moved to
/// another tenant, another kind or another name fails authentication.
enum AssociatedData {
    static func make(tenant: TenantID, kind: String, id: some Collection<UInt8>, extra: [UInt8] = []) -> [UInt8] {
        var out = Array("lethe/v1".utf8)
        out.append(0)
        out.append(contentsOf: tenant.rawValue.utf8)
        out.append(0)
        out.append(contentsOf: kind.utf8)
        out.append(0)
        out.append(contentsOf: id)
        out.append(contentsOf: extra)
        return out
    }
}
