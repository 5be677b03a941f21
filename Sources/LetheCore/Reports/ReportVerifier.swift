import Foundation
import LetheCrypto

/// Checks a destruction report with nothing but its bytes, its signature and the service's
/// public key: the signature, the approvals inside it, and its inclusion in the audit log.
public enum ReportVerifier {
    public struct Result: Codable, Sendable {
        public var checks: [VerificationCheck] = []
        public var isValid: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
    }

    public static func verify(json: [UInt8], signature: [UInt8], publicKey: Ed25519.PublicKey) -> Result {
        var result = Result()
        func add(_ check: String, _ passed: Bool, _ detail: String) {
            result.checks.append(VerificationCheck(check: check, passed: passed, detail: detail))
        }
        let fingerprint = (try? publicKey.fingerprint) ?? "?"
        let signed = publicKey.isValidSignature(signature, for: json)
        add("report signature", signed, signed ? "valid Ed25519 signature by \(fingerprint)" : "does not verify with \(fingerprint)")
        guard let report = try? JSONDecoder().decode(DestructionReport.self, from: Data(json)),
              report.format == DestructionReport.formatName else {
            add("report format", false, "not a \(DestructionReport.formatName) document")
            return result
        }
        add("signer", report.signer.keyFingerprint == fingerprint,
            "the report names signer \(report.signer.keyFingerprint)")

        // The request bytes and each approval's signature over them.
        if let bytes = Data(base64Encoded: report.request.bytes).map(Array.init),
           let digest = try? SHA256.hash(bytes), Hex.encode(digest) == report.request.sha256 {
            for approval in report.approvals {
                let ok = (report.approvalKeys[approval.authorizer]).flatMap { pem in try? Ed25519.PublicKey(pemRepresentation: pem) }
                    .map { key in
                        (try? key.fingerprint) == approval.keyFingerprint
                            && key.isValidSignature(Array(Data(base64Encoded: approval.signature) ?? Data()), for: bytes)
                    } ?? false
                add("approval by \(approval.authorizer)", ok,
                    ok ? "\(approval.role.rawValue), key \(approval.keyFingerprint), signed the request bytes" : "signature or key does not match")
            }
            let policy = report.policy.isSatisfied(by: report.approvals)
            add("approval policy", policy, report.policy.summary)
        } else {
            add("request bytes", false, "the embedded request does not match its SHA-256")
        }

        // Inclusion in the audit log.
        let audit = report.auditLog
        let entry = Array(audit.entry.utf8)
        let checkpoint = (try? Checkpoint.verify(audit.checkpoint, publicKey: publicKey)) ?? nil
        if let checkpoint, checkpoint.size == audit.treeSize, let leaf = try? MerkleTree.leafHash(entry) {
            let path = audit.inclusionProof.compactMap { Data(base64Encoded: $0).map(Array.init) }
            let included = path.count == audit.inclusionProof.count
                && ((try? MerkleTree.verifyInclusion(leaf: leaf, index: audit.leafIndex, size: audit.treeSize, proof: path, root: checkpoint.root)) ?? false)
            add("audit log inclusion", included,
                included ? "entry \(audit.leafIndex) is in the signed tree of size \(audit.treeSize)" : "the inclusion proof does not lead to the checkpoint")
            var logged = false
            if let logEntry = try? JSONDecoder().decode(AuditEntry.self, from: Data(entry)) {
                let namesRequest = logEntry.details["request"] == report.request.id
                let namesInventory = logEntry.details["inventoryDigest"] == report.inventory.digest
                logged = logEntry.operation == "destroy.execute" && logEntry.tenant == report.tenant.id
                    && namesRequest && namesInventory && logEntry.index == audit.leafIndex
            }
            add("audit entry matches", logged, "the logged entry names this tenant, request and inventory digest")
        } else {
            add("audit checkpoint", false, "the checkpoint is not signed by this key or does not match the tree size")
        }

        let checksPassed = report.verification.allSatisfy(\.passed) && !report.verification.isEmpty
        add("destruction checks", checksPassed, "\(report.verification.filter(\.passed).count) of \(report.verification.count) recorded checks passed")
        let inventory = (try? Inventory(objects: report.inventory.objects)).map { $0.digest == report.inventory.digest } ?? false
        add("inventory digest", inventory, "\(report.inventory.objectCount) objects, \(report.inventory.bytes) bytes, digest \(report.inventory.digest.prefix(16))…")
        return result
    }
}
