import Foundation
import LetheCrypto

extension ReportVerifier {
    /// The checks of an erasure certificate, after its signature: its format and signer; the
    /// purge document (bytes matching their SHA-256, and the certificate saying what they
    /// say); the registry chain from version 1; each approval (a key the auditor trusts, of the
    /// judging version, with its role, signing the document's bytes) and the policy, which must
    /// be the judging version's purge policy; the
    /// inclusion of the `erase.purge` entry under the signed checkpoint, and that entry naming
    /// this request, document and rewrites; the purge's own checks.
    static func verifyCertificate(json: [UInt8], trust: Trust, add: (String, Bool, String) -> Void) {
        let fingerprint = (try? trust.serviceKey.fingerprint) ?? "?"
        guard let certificate = try? JSONDecoder().decode(ErasureCertificate.self, from: Data(json)) else {
            add("certificate format", false, "not a \(ErasureCertificate.formatName) document")
            return
        }
        add("signer", certificate.signer.keyFingerprint == fingerprint, "the certificate names signer \(certificate.signer.keyFingerprint)")
        guard let bytes = Data(base64Encoded: certificate.purgeDocument.bytes).map(Array.init),
              let digest = try? SHA256.hash(bytes), Hex.encode(digest) == certificate.purgeDocument.sha256,
              let document = try? JSONDecoder().decode(PurgeDocument.self, from: Data(bytes)),
              (try? document.canonicalBytes()) == bytes, document.hasKnownFormat else {
            add("purge document", false, "the embedded purge document is not canonical or does not match its SHA-256")
            return
        }
        var differ: [String] = []
        if document.request != certificate.request.id { differ.append("request id") }
        if document.tenant != certificate.tenant { differ.append("tenant") }
        if document.subjectHash != certificate.request.subjectHash { differ.append("subject hash") }
        if document.ledgerVersion != certificate.request.ledgerVersion { differ.append("ledger version") }
        if document.rules != certificate.rules { differ.append("rules") }
        if document.policy != certificate.policy { differ.append("policy") }
        if document.registry.version != certificate.registry.version || document.registry.sha256 != certificate.registry.sha256 {
            differ.append("registry version")
        }
        add("certificate matches the signed purge document", differ.isEmpty,
            differ.isEmpty ? "request, tenant, subject hash, ledger version, rules, policy and registry version are the document's"
                : "differs in: " + differ.joined(separator: ", "))

        let judging = registryVersion(
            certificate.registry.chain, version: document.registry.version, sha256: document.registry.sha256, trust: trust, add: add)
        // The authorizers set the purge policy in the registry; the document must state theirs.
        if let judging {
            let same = judging.effectivePurgePolicy == document.policy
            add("purge policy of the registry", same,
                same ? "the document states registry version \(judging.version)'s purge policy"
                    : "the document states \(document.policy.summary), but registry version \(judging.version) sets \(judging.effectivePurgePolicy.summary)")
        }
        let approvers = approvers(certificate.approvals, over: bytes, named: "the purge document", judging: judging,
                                  version: document.registry.version, trust: trust, add: add)
        add("approval policy", document.policy.isSatisfied(signedBy: approvers),
            "\(document.policy.summary); \(Set(approvers.map(\.fingerprint)).count) verified approvals")

        if let logged = loggedEntry(certificate.auditLog, trust: trust, add: add) {
            let rewrites = Dictionary(certificate.snapshots.map { ($0.original, $0.rewritten) }, uniquingKeysWith: { first, _ in first })
            let matches = logged.map { logEntry in
                logEntry.operation == "erase.purge" && logEntry.tenant == certificate.tenant
                    && logEntry.details["request"] == certificate.request.id
                    && logEntry.details["documentSHA256"] == certificate.purgeDocument.sha256
                    && rewrites.count == certificate.snapshots.count
                    && logEntry.details["rewritesSHA256"] == (try? ErasurePurge.digest(of: rewrites))
            } ?? false
            add("audit entry matches", matches, "the logged erase.purge entry names this tenant, request, purge document and rewrites")
        }
        let passed = !certificate.verification.isEmpty && certificate.verification.allSatisfy(\.passed)
        add("purge checks", passed, "\(certificate.verification.filter(\.passed).count) of \(certificate.verification.count) recorded checks passed")
    }
}
