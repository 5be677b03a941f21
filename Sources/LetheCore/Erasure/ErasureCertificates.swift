import Foundation
import LetheCrypto
import LetheStore

/// Erasure certificates in the object store, `certificates/<id>.json` (the signed bytes),
/// `.sig` (raw Ed25519 signature by the service key) and `.html` (printable rendering),
/// outside every tenant's prefix like destruction reports, so they outlive the tenant. A
/// certificate is built from the audit log alone: the `erase.purge` entry (the purge document,
/// the rewrites, the checks) and the approvals logged before it.
public struct ErasureCertificates: Sendable {
    let installation: Installation
    static let prefix = try! ObjectKey("certificates")

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Stored: Sendable {
        public let id: String
        public let json: [UInt8]
        public let signature: [UInt8]
        public let html: String
        public let certificate: ErasureCertificate
    }

    /// The ids of the certificates in the store.
    public func ids() throws -> [String] {
        try installation.store.children(of: ErasureCertificates.prefix).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The audit-log checkpoint certificate `id` embeds, for `audit verify` to compare with the log.
    public func checkpoint(of id: String) throws -> String {
        let json = try installation.store.get(try ErasureCertificates.prefix.appending("\(id).json"))
        guard let certificate = try? JSONDecoder().decode(ErasureCertificate.self, from: Data(json)) else {
            throw LetheError.integrity("certificates/\(id).json is not an erasure certificate")
        }
        return certificate.auditLog.checkpoint
    }

    /// The certificates the audit log says were issued that are missing from the store, or are
    /// not the bytes it logged: a certificate is evidence, and losing one is an integrity violation.
    public func problems(against history: AuditHistory) -> [String] {
        history.entries.filter { $0.operation == "erase.certificate" }.compactMap { entry in
            guard let id = entry.details["certificate"], let key = try? ErasureCertificates.prefix.appending("\(id).json") else { return nil }
            guard let json = try? installation.store.get(key) else {
                return "\(key): missing, though the audit log recorded its issue (entry \(entry.index))"
            }
            if let logged = entry.details["sha256"], (try? SHA256.hash(json)).map(Hex.encode) != logged {
                return "\(key): not the certificate the audit log recorded at entry \(entry.index) (replaced)"
            }
            return nil
        }
    }

    static func id(for request: String) -> String { "ec-" + request.dropFirst(request.hasPrefix("er-") ? 3 : 0) }

    /// The certificate of request `id`'s purge: the stored one, or one issued now from the log.
    public func certificate(for requestID: String) throws -> Stored {
        let request = try ErasureLedgers(installation).request(requestID)
        let id = ErasureCertificates.id(for: request.id)
        if let json = try? installation.store.get(try ErasureCertificates.prefix.appending("\(id).json")),
           let signature = try? installation.store.get(try ErasureCertificates.prefix.appending("\(id).sig")) {
            guard let certificate = try? JSONDecoder().decode(ErasureCertificate.self, from: Data(json)),
                  try installation.signingKey().publicKey.isValidSignature(signature, for: json) else {
                throw LetheError.integrity("certificates/\(id).json is not an erasure certificate signed by this service")
            }
            return Stored(id: id, json: json, signature: signature, html: certificate.html, certificate: certificate)
        }
        return try issue(request, id: id)
    }

    private func issue(_ request: ErasureRequest, id: String) throws -> Stored {
        let history = try AuditTrail(installation).history()
        let mine = history.entries.filter { $0.tenant == request.tenant && $0.details["request"] == request.id }
        guard let purge = mine.last(where: { $0.operation == "erase.purge" }) else {
            throw LetheError.usage("erasure request \(request.id) has not been purged (`lethe erase purge \(request.id)`); there is nothing to certify")
        }
        guard let bytes = purge.details["document"].flatMap({ Data(base64Encoded: $0) }).map(Array.init),
              let document = try? JSONDecoder().decode(PurgeDocument.self, from: Data(bytes)),
              let checksText = purge.details["checks"],
              let checks = try? JSONDecoder().decode([VerificationCheck].self, from: Data(checksText.utf8)) else {
            throw LetheError.integrity("audit log: entry \(purge.index) is not a complete erase.purge entry")
        }
        let registry = AuthorizerRegistry(installation)
        guard let judging = try registry.chain().document(document.registry.version) else {
            throw LetheError.integrity("the purge of \(request.id) was judged by registry version \(document.registry.version), which the verified registry lacks")
        }
        var approvals: [Approval] = []
        var keys: [String: String] = [:]
        for entry in mine where entry.operation == "erase.approve" && entry.index < purge.index {
            guard let fingerprint = entry.details["fingerprint"], let authorizer = judging.authorizer(fingerprint: fingerprint),
                  !approvals.contains(where: { $0.keyFingerprint == fingerprint }), let signature = entry.details["signature"],
                  let raw = Data(base64Encoded: signature), try authorizer.key().isValidSignature(Array(raw), for: bytes) else { continue }
            approvals.append(Approval(authorizer: authorizer.name, role: authorizer.role, keyFingerprint: fingerprint, signature: signature, time: entry.time))
            keys[authorizer.name] = authorizer.publicKey
        }
        let rewrites = mine.filter { $0.operation == "erase.rewrite" && $0.index < purge.index }.compactMap { entry -> ErasureCertificate.Rewrite? in
            guard let original = entry.details["original"], let rewritten = entry.details["rewritten"] else { return nil }
            return ErasureCertificate.Rewrite(original: original, rewritten: rewritten, time: entry.details["time"] ?? "")
        }
        let start = mine.last { $0.operation == "erase.purge.start" && $0.index < purge.index }
        let proof = try history.prove(index: purge.index)
        let signing = try installation.signingKey()
        func number(_ key: String) -> Int { purge.details[key].flatMap(Int.init) ?? 0 }
        let certificate = ErasureCertificate(
            certificateID: id, tenant: request.tenant,
            request: .init(id: request.id, subjectHash: request.subjectHash, requester: request.requester, requested: request.requested,
                           ledgerVersion: document.ledgerVersion),
            rules: document.rules,
            purgeDocument: .init(sha256: Hex.encode(try SHA256.hash(bytes)), bytes: Data(bytes).base64EncodedString()),
            policy: document.policy,
            registry: .init(version: document.registry.version, sha256: document.registry.sha256,
                            chain: try registry.envelopes(through: document.registry.version)),
            approvals: approvals, approvalKeys: keys, snapshots: rewrites,
            storage: .init(
                location: installation.store.location, snapshotsForgotten: rewrites.count, packsRepacked: number("packsRepacked"),
                packsDeleted: number("packsDeleted"), blobsReplaced: number("blobsReplaced"), bytesFreed: number("bytesFreed")),
            verification: checks, started: start?.time ?? purge.time, finished: purge.time,
            software: .init(name: "lethe", version: Lethe.version, host: ProcessInfo.processInfo.hostName),
            signer: .init(keyFingerprint: try signing.fingerprint),
            auditLog: .init(
                leafIndex: purge.index, entry: String(decoding: history.bytes[purge.index], as: UTF8.self), treeSize: proof.treeSize,
                checkpoint: proof.checkpoint, inclusionProof: proof.path),
            outsideReach: ErasureCertificate.outsideReach)
        let json = try certificate.canonicalBytes()
        let signature = try signing.sign(json)
        let html = certificate.html
        // The signature and rendering first, the JSON last, so a stored certificate has its signature.
        try installation.store.put(try ErasureCertificates.prefix.appending("\(id).sig"), signature)
        try installation.store.put(try ErasureCertificates.prefix.appending("\(id).html"), Array(html.utf8))
        try installation.store.put(try ErasureCertificates.prefix.appending("\(id).json"), json)
        try AuditTrail(installation).record("erase.certificate", tenant: try TenantID(request.tenant), details: [
            "request": request.id, "certificate": id, "sha256": Hex.encode(try SHA256.hash(json)),
        ])
        return Stored(id: id, json: json, signature: signature, html: html, certificate: certificate)
    }
}
