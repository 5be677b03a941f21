import Foundation
import LetheCrypto
import LetheStore

/// The controller's processing log: one tenant's own audit entries, each with its RFC 9162
/// inclusion proof to one signed checkpoint, in a folder the controller checks without Lethe
/// (docs/auditors.md does it with openssl, sha256sum and python3).
///
///     extract.json          the manifest: tenant, period, tree size, key fingerprint, and per
///                           entry its file, SHA-256, leaf hash and audit path (canonical JSON)
///     extract.sig           Ed25519 signature of extract.json by the service key (raw, as
///                           `openssl pkeyutl -verify -rawin` checks it)
///     checkpoint.txt        the signed checkpoint every proof leads to
///     entries/<index>.json  each entry's exact bytes (the Merkle leaf's input)
///     SHA256SUMS            `sha256sum -c` input for checkpoint.txt and the entries
///
/// Other tenants appear only as the hashes inside the audit paths: their entries, and the
/// log's other files, are not in the folder. The public key itself is not in it either (only
/// its fingerprint): a folder that carried the key to check it with would prove nothing. The
/// proofs show that every entry is in the log the checkpoint signs; the signed manifest is the
/// service's statement that these are all of the tenant's entries in the period, so an entry
/// found later and left out of it is evidence against the service.
public enum AuditExtract {
    public static let formatName = "lethe-audit-extract-v1"

    public struct Item: Codable, Equatable, Sendable {
        public var index: Int
        public var file: String
        /// SHA-256 of the file, hex.
        public var sha256: String
        /// SHA-256(0x00 ‖ entry), base64.
        public var leafHash: String
        /// The RFC 9162 audit path, base64 hashes, leaf to root.
        public var path: [String]
    }

    public struct Manifest: Codable, Equatable, Sendable {
        public var format: String = AuditExtract.formatName
        public var tenant: String
        public var from: String?
        public var to: String?
        public var created: String
        public var origin: String
        public var treeSize: Int
        /// SHA-256 of checkpoint.txt, hex.
        public var checkpointSHA256: String
        public var serviceKeyFingerprint: String
        public var entries: [Item]

        public func canonicalBytes() throws -> [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Array(try encoder.encode(self))
        }
    }

    static func entryFile(_ index: Int) -> String { "entries/\(index).json" }

    /// Whether an entry's time is in the period: `from` inclusive, `to` inclusive (a date alone
    /// as `to` covers that whole day).
    package static func inPeriod(_ time: String, from: String?, to: String?) -> Bool {
        guard let at = Timestamp.parse(time) else { return false }
        if let from, let start = Timestamp.parse(from), at < start { return false }
        if let to, let end = Timestamp.parse(to) {
            let last = to.utf8.count == 10 ? end.addingTimeInterval(86_400) : end.addingTimeInterval(0.001)
            if at >= last { return false }
        }
        return true
    }

    /// Writes the extract of `tenant` into `directory` (created; refused if it holds anything).
    public static func write(
        _ installation: Installation, tenant: TenantID, from: String?, to: String?, directory: String
    ) throws -> Manifest {
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, Timestamp.parse(value) == nil {
                throw LetheError.usage("\(name) takes a date (2026-03-01) or a time (2026-03-01T02:00:00Z), not \"\(value)\"")
            }
        }
        if FileSystem.exists(directory), !(try FileSystem.listDirectory(directory).isEmpty) {
            throw LetheError.usage("\(directory) is not empty; give a new folder for the extract")
        }
        let history = try AuditTrail(installation).history()
        guard let checkpoint = history.checkpoint else { throw LetheError.usage("the audit log is empty") }
        let own = history.entries.filter { $0.tenant == tenant.rawValue }
        guard !own.isEmpty else { throw LetheError.usage("the audit log has no entry for tenant \(tenant)") }
        let chosen = own.filter { inPeriod($0.time, from: from, to: to) }
        guard !chosen.isEmpty else { throw LetheError.usage("tenant \(tenant) has no audit entry in that period") }
        let signing = try installation.signingKey()
        try FileSystem.makeDirectories("\(directory)/entries", mode: 0o755)
        var items: [Item] = []
        var sums = ""
        let checkpointBytes = Array(checkpoint.text.utf8)
        try FileSystem.writeAtomically(checkpointBytes, to: "\(directory)/checkpoint.txt", mode: 0o644)
        sums += "\(Hex.encode(try SHA256.hash(checkpointBytes)))  checkpoint.txt\n"
        for entry in chosen {
            let bytes = history.bytes[entry.index]
            let proof = try history.prove(index: entry.index)
            let file = entryFile(entry.index)
            try FileSystem.writeAtomically(bytes, to: "\(directory)/\(file)", mode: 0o644)
            let digest = Hex.encode(try SHA256.hash(bytes))
            sums += "\(digest)  \(file)\n"
            items.append(Item(index: entry.index, file: file, sha256: digest, leafHash: proof.leafHash, path: proof.path))
        }
        try FileSystem.writeAtomically(Array(sums.utf8), to: "\(directory)/SHA256SUMS", mode: 0o644)
        let manifest = Manifest(
            tenant: tenant.rawValue, from: from, to: to, created: installation.nowText, origin: checkpoint.origin,
            treeSize: checkpoint.size, checkpointSHA256: Hex.encode(try SHA256.hash(checkpointBytes)),
            serviceKeyFingerprint: try signing.fingerprint, entries: items)
        let json = try manifest.canonicalBytes()
        try FileSystem.writeAtomically(try signing.sign(json), to: "\(directory)/extract.sig", mode: 0o644)
        try FileSystem.writeAtomically(json, to: "\(directory)/extract.json", mode: 0o644)
        try AuditTrail(installation).note("audit.extract", tenant: tenant, details: [
            "entries": String(items.count), "treeSize": String(checkpoint.size), "from": from ?? "", "to": to ?? "",
            "sha256": Hex.encode(try SHA256.hash(json)),
        ])
        return manifest
    }
}
