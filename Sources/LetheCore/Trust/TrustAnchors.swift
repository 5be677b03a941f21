import Foundation
import LetheCrypto
import LetheStore

/// What this host last knew to be the newest authenticated state, kept in the key directory.
///
/// Signatures stop S (the store) and H (the rest of the home) from forging state, but not from
/// putting back an older genuine copy: the audit log cut short with its newest checkpoints, an
/// authorizer registry from before a removal. The key directory is the one place neither can
/// write, so the host keeps there, after every change, the newest audit checkpoint it signed or
/// accepted and the newest registry version it verified. Anything older found in the store is
/// a rollback (an integrity error); anything newer must extend what is anchored (a consistency
/// proof for the log, a valid chain for the registry) before the anchor moves.
///
///     <keys>/audit-head       the newest signed checkpoint (C2SP signed note, verifiable)
///     <keys>/registry-head    "<version> <SHA-256 of that version's document>\n"
public struct TrustAnchors: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    var auditHeadPath: String { "\(directory)/audit-head" }
    var registryHeadPath: String { "\(directory)/registry-head" }

    // MARK: Audit log

    /// The anchored checkpoint, or nil when this host has anchored none yet.
    func auditHead(publicKey: Ed25519.PublicKey) throws -> Checkpoint? {
        guard let bytes = try read("audit-head") else { return nil }
        guard let checkpoint = try Checkpoint.verify(String(decoding: bytes, as: UTF8.self), publicKey: publicKey) else {
            throw LetheError.integrity("\(auditHeadPath) is not a checkpoint signed by this service's key (damaged or replaced)")
        }
        return checkpoint
    }

    func setAuditHead(_ checkpoint: Checkpoint) throws {
        try write(Array(checkpoint.text.utf8), to: "audit-head")
    }

    // MARK: Authorizer registry

    public struct RegistryHead: Equatable, Sendable {
        public let version: Int
        public let sha256: String
    }

    func registryHead() throws -> RegistryHead? {
        guard let bytes = try read("registry-head") else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        guard parts.count == 2, let version = Int(parts[0]), version >= 1,
              parts[1].hasSuffix("\n"), Hex.decode(parts[1].dropLast())?.count == 32 else {
            throw LetheError.integrity("\(registryHeadPath) is damaged (expected \"VERSION SHA256\")")
        }
        return RegistryHead(version: version, sha256: String(parts[1].dropLast()))
    }

    func setRegistryHead(_ head: RegistryHead) throws {
        try write(Array("\(head.version) \(head.sha256)\n".utf8), to: "registry-head")
    }

    /// Anchors are files of the key directory like the keys: checked on their descriptor,
    /// never followed through a link, written atomically.
    private func read(_ name: String) throws -> [UInt8]? {
        let keys = try KeyDirectory(directory)
        guard try keys.contains(name) else { return nil }
        return try keys.read(name, limit: 1 << 16)
    }

    private func write(_ bytes: [UInt8], to name: String) throws {
        try bytes.withUnsafeBytes { try KeyDirectory(directory).write($0, to: name, mode: 0o600) }
    }
}
