import Foundation
import LetheStore

/// The signed record of one destruction: every field of the brief, self-contained, so that an
/// auditor holding the service's public key and the authorizers' key fingerprints (both
/// obtained out of band) can check it without Lethe. The stored JSON bytes are what is signed
/// (`<id>.sig` holds the raw Ed25519 signature).
///
/// Its claims are tied to what the authorizers signed: the request bytes are inside, and the
/// tenant, inventory, key, policy and registry version the report states must be the ones in
/// those bytes. The registry chain from version 1 to the version that judged the request is
/// inside too, so the approvers' roles can be checked from the authorizers' own signatures.
public struct DestructionReport: Codable, Equatable, Sendable {
    public static let formatName = "lethe-destruction-report-v2"

    public struct Tenant: Codable, Equatable, Sendable {
        public var id: String
        public var name: String
    }

    public struct Request: Codable, Equatable, Sendable {
        public var id: String
        public var requester: String
        public var requested: String
        public var note: String?
        /// SHA-256 of the exact request bytes the approvals sign, hex.
        public var sha256: String
        /// Those bytes, base64, so the approvals can be checked from the report alone.
        public var bytes: String
    }

    /// The authorizer registry that judged the request.
    public struct Registry: Codable, Equatable, Sendable {
        public var version: Int
        /// SHA-256 of that version's document bytes, as the request names it.
        public var sha256: String
        /// Versions 1 through `version`, as stored: documents with the authorizers' signatures.
        public var chain: [RegistryEnvelope]
    }

    /// The store the objects were deleted from, and what was deleted there.
    public struct Storage: Codable, Equatable, Sendable {
        public var location: String
        /// `unversioned`, `enabled` or `suspended`.
        public var versioning: Versioning
        /// Object versions deleted (on a store without versions: the objects).
        public var versionsDeleted: Int
        public var deleteMarkersDeleted: Int
    }

    public struct KeyEvidence: Codable, Equatable, Sendable {
        public var dekID: String
        /// HMAC-SHA256(DEK, "lethe/v1/dek-commitment" ‖ 0 ‖ tenant ‖ 0 ‖ DEK id) of the keystore
        /// entry that was revoked: identifies the destroyed key without revealing it.
        public var dekCommitment: String
        public var kekEpochBefore: Int
        public var kekEpochAfter: Int
        public var kekProvider: String
    }

    public struct Software: Codable, Equatable, Sendable {
        public var name: String
        public var version: String
        public var host: String
    }

    /// Which key signed the report. Its public key is deliberately not inside: a report that
    /// carried the key to check it with would prove nothing.
    public struct Signer: Codable, Equatable, Sendable {
        public var keyFingerprint: String
    }

    public struct AuditEvidence: Codable, Equatable, Sendable {
        public var leafIndex: Int
        /// The audit entry (canonical JSON) whose leaf this is.
        public var entry: String
        public var treeSize: Int
        /// The signed checkpoint (C2SP signed note) the proof leads to.
        public var checkpoint: String
        /// RFC 9162 audit path, base64 hashes.
        public var inclusionProof: [String]
    }

    public var format: String = DestructionReport.formatName
    public var reportID: String
    public var tenant: Tenant
    public var reason: DestructionReason
    public var legalBasis: String
    public var request: Request
    public var policy: ApprovalPolicy
    public var gracePeriodHours: Int
    public var registry: Registry
    public var approvals: [Approval]
    /// The public key (PEM) of each approving authorizer, copied from the registry, so that each
    /// approval can be checked with openssl alone.
    public var approvalKeys: [String: String]
    public var method: String
    public var keyEvidence: KeyEvidence
    public var inventory: Inventory
    public var storage: Storage
    public var storageLocations: [String]
    public var verification: [VerificationCheck]
    public var started: String
    public var finished: String
    public var software: Software
    public var signer: Signer
    public var auditLog: AuditEvidence
    public var outsideReach: String
    /// The tenant's register entry as the signed request states it: what data this was, about
    /// whom, for which purposes. Absent in reports of tenants without one, and in reports from
    /// before registers, which verify as before.
    public var register: DataRegister?

    public func canonicalBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    static let method = "Cryptographic erasure: the tenant's data encryption key was removed from the keystore and the "
        + "keystore moved to a new key-encryption-key epoch (every other tenant key re-wrapped), after which the "
        + "previous key-encryption key was overwritten and deleted, so no copy of the keystore can yield the key; "
        + "plus logical deletion of every object of the tenant in the store, removal of its catalog rows "
        + "(SQLite secure_delete, WAL checkpoint, VACUUM) and of its local caches and temporary files."

    static let outsideReach = "This report covers the copies Lethe manages: the object store, the catalog, the keystore "
        + "and local caches listed above. It cannot cover copies made outside Lethe: backups or snapshots of the "
        + "storage volumes, of the object store or of the key directory taken by other tools (a key-encryption-key "
        + "file copied while its epoch was current, with an older keystore copy, would still unwrap the key), "
        + "exports and restores handed out earlier (each is recorded in the audit log), and data the client or "
        + "other processors hold. Storage media that keep overwritten blocks (SSDs, copy-on-write file systems) may "
        + "retain ciphertext, which without the destroyed key is unreadable."
}
