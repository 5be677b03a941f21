import Foundation

/// The signed record of one erasure purge, from the same parts as a destruction report (the
/// registry chain, the approvals over exact bytes, the audit-log inclusion proof, the
/// service's Ed25519 signature over canonical JSON), so that `lethe report verify` and stock
/// openssl check it the same way (docs/auditors.md). It names the person only by the subject
/// hash, and the rules only redacted.
public struct ErasureCertificate: Codable, Equatable, Sendable {
    public static let formatName = "lethe-erasure-certificate-v1"

    public struct Request: Codable, Equatable, Sendable {
        public var id: String
        public var subjectHash: String
        public var requester: String
        public var requested: String
        /// The ledger version whose rules the purge applied (every request up to this one).
        public var ledgerVersion: Int
    }

    /// The purge document the approvals sign: its SHA-256 and its bytes, base64.
    public struct Document: Codable, Equatable, Sendable {
        public var sha256: String
        public var bytes: String
    }

    public struct Rewrite: Codable, Equatable, Sendable {
        public var original: String
        public var rewritten: String
        /// The snapshot's time, the same before and after.
        public var time: String
    }

    public struct Storage: Codable, Equatable, Sendable {
        public var location: String
        public var snapshotsForgotten: Int
        public var packsRepacked: Int
        public var packsDeleted: Int
        public var blobsReplaced: Int
        public var bytesFreed: Int
    }

    public var format = ErasureCertificate.formatName
    public var certificateID: String
    public var tenant: String
    public var request: Request
    public var rules: [String]
    public var purgeDocument: Document
    public var policy: ApprovalPolicy
    public var registry: DestructionReport.Registry
    public var approvals: [Approval]
    /// Each approver's public key (PEM), from the registry version that judged them.
    public var approvalKeys: [String: String]
    public var snapshots: [Rewrite]
    public var storage: Storage
    public var verification: [VerificationCheck]
    public var started: String
    public var finished: String
    public var software: DestructionReport.Software
    public var signer: DestructionReport.Signer
    /// The `erase.purge` entry, with its inclusion proof.
    public var auditLog: DestructionReport.AuditEvidence
    public var outsideReach: String

    public func canonicalBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    static let outsideReach = "This certificate covers the copies Lethe manages: every snapshot of the tenant in the object store "
        + "was rewritten without the rules' rows, records and paths, the originals deleted and every pack that held their blobs "
        + "repacked or deleted. It does not cover copies made outside Lethe, media that keep overwritten blocks, object versions a "
        + "versioned bucket keeps, or the erasure ledger itself, which keeps the rules (sealed under the tenant's key) so that later "
        + "backups still holding the person are filtered too."

    /// The printable page, rendered from the certificate.
    public var html: String {
        let e = ReportRenderer.e
        let allPassed = verification.allSatisfy(\.passed)
        var body = """
            <h1>Erasure certificate</h1>
            <p class="sub">\(e(certificateID)) · tenant \(e(tenant)) · finished \(e(finished))</p>
            <p class="outcome \(allPassed ? "ok" : "bad")">\(allPassed ? "Purged and verified" : "Verification FAILED")</p>
            <h2>Request</h2>
            \(ReportRenderer.table([("Request", request.id), ("Subject (keyed hash)", request.subjectHash),
                                    ("Requested by", "\(request.requester) at \(request.requested)"),
                                    ("Ledger version", String(request.ledgerVersion)), ("Purge document SHA-256", purgeDocument.sha256)]))
            <h2>Rules (values redacted)</h2>
            <ol>\(rules.map { "<li>\(e($0))</li>" }.joined())</ol>
            <h2>Approvals</h2>
            <p>Policy: \(e(policy.summary)).</p>
            <table><tr><th>Authorizer</th><th>Role</th><th>Key fingerprint</th><th>Time</th><th>Signature (Ed25519)</th></tr>
            """
        for approval in approvals {
            body += "<tr><td>\(e(approval.authorizer))</td><td>\(e(approval.role.rawValue))</td><td class=\"mono\">\(e(approval.keyFingerprint))</td>"
                + "<td>\(e(approval.time))</td><td class=\"mono small\">\(e(approval.signature))</td></tr>\n"
        }
        body += "</table>\n<h2>Snapshots rewritten</h2>\n<table><tr><th>Time</th><th>Original</th><th>Rewritten</th></tr>\n"
        for rewrite in snapshots {
            body += "<tr><td>\(e(rewrite.time))</td><td class=\"mono\">\(e(rewrite.original))</td><td class=\"mono\">\(e(rewrite.rewritten))</td></tr>\n"
        }
        body += "</table>\n<h2>Storage</h2>\n" + ReportRenderer.table([
            ("Store", storage.location), ("Snapshots forgotten", String(storage.snapshotsForgotten)),
            ("Packs repacked", String(storage.packsRepacked)), ("Packs deleted", String(storage.packsDeleted)),
            ("Blobs replaced", String(storage.blobsReplaced)), ("Bytes freed", String(storage.bytesFreed)),
        ])
        body += "<h2>Verification</h2>\n<table><tr><th>Check</th><th>Result</th><th>Detail</th></tr>\n"
        for check in verification {
            body += "<tr><td>\(e(check.check))</td><td class=\"\(check.passed ? "ok" : "bad")\">\(check.passed ? "passed" : "FAILED")</td><td>\(e(check.detail))</td></tr>\n"
        }
        body += "</table>\n<h2>Audit log</h2>\n" + ReportRenderer.table([
            ("Entry", String(auditLog.leafIndex)), ("Tree size", String(auditLog.treeSize)), ("Checkpoint", auditLog.checkpoint),
        ])
        body += """
            <h2>Outside Lethe's reach</h2>
            <p>\(e(outsideReach))</p>
            <h2>How to check this certificate</h2>
            <pre>openssl pkeyutl -verify -pubin -inkey signing-key.pub.pem -rawin -in \(e(certificateID)).json -sigfile \(e(certificateID)).sig</pre>
            <p>See docs/auditors.md for the inclusion proof and the approvals.</p>
            """
        return ReportRenderer.page(title: "Erasure certificate \(certificateID)", body: body)
    }
}
