import Foundation
import LetheCrypto
import LetheKeys
import LetheStore

/// The last step of a destruction: records it in the audit log, then builds, signs and stores
/// the report with the log entry's inclusion proof. Safe to run again after a crash: an entry
/// already logged for the request, or a report already stored, is reused.
struct ReportIssuer {
    let installation: Installation

    func issue(_ entry: DestructionRequests.Entry) throws -> [String: String] {
        let reportID = DestructionExecutor.reportID(for: entry.id)
        let reports = ReportStore(store: installation.store)
        if (try? reports.load(reportID)) != nil { return ["report": reportID] }

        let signing = try installation.signingKey()
        let trail = AuditTrail(installation)
        let log = trail.log
        guard let evidence = entry.state.evidence else {
            throw LetheError.integrity("\(DestructionRequests.stateKey(entry.id)) lost the evidence of its first step")
        }
        let leaf: AuditEntry
        if let logged = try log.entries().last(where: { $0.operation == "destroy.execute" && $0.details["request"] == entry.id }) {
            leaf = logged
        } else {
            let checks = evidence.checks ?? []
            (leaf, _) = try trail.record("destroy.execute", tenant: try TenantID(entry.request.tenant), details: [
                "request": entry.id, "report": reportID, "inventoryDigest": entry.request.inventory.digest,
                "objects": String(entry.request.inventory.objectCount), "kekEpochBefore": String(evidence.kekEpochBefore),
                "kekEpochAfter": String(evidence.kekEpochAfter ?? 0),
                "checks": "\(checks.filter(\.passed).count)/\(checks.count) passed",
            ])
        }
        let proof = try log.prove(index: leaf.index, publicKey: signing.publicKey)
        let authorizers = try AuthorizerRegistry(installation).all()
        var approvalKeys: [String: String] = [:]
        for approval in entry.state.approvals {
            approvalKeys[approval.authorizer] = authorizers.first { $0.name == approval.authorizer }?.publicKey
        }
        let keysDirectory = installation.keysDirectory
        let tenant = entry.request.tenant
        let report = DestructionReport(
            reportID: reportID,
            tenant: .init(id: tenant, name: entry.request.tenantName),
            reason: entry.request.reason, legalBasis: entry.request.reason.legalBasis,
            request: .init(
                id: entry.id, requester: entry.request.requester, requested: entry.request.requested, note: entry.request.note,
                sha256: Hex.encode(try SHA256.hash(entry.bytes)), bytes: Data(entry.bytes).base64EncodedString()),
            policy: entry.request.policy, approvals: entry.state.approvals, approvalKeys: approvalKeys,
            method: DestructionReport.method,
            keyEvidence: .init(
                dekID: entry.request.dekID, dekCommitment: entry.request.dekCommitment,
                kekEpochBefore: evidence.kekEpochBefore, kekEpochAfter: evidence.kekEpochAfter ?? 0,
                kekProvider: "file:\(keysDirectory)/kek"),
            inventory: entry.request.inventory,
            storageLocations: [
                "\(installation.store.location)/tenants/\(tenant)/ (every object, deleted)",
                "\(installation.store.location)/locks/\(tenant)/ (locks, deleted)",
                "\(installation.store.location)/.staging/ (unfinished writes of the tenant, discarded)",
                "\(keysDirectory)/keystore.json (DEK entry removed, keystore re-wrapped under a new KEK epoch)",
                "\(keysDirectory)/kek/ (previous KEK epoch overwritten and deleted)",
                "\(installation.home.catalogPath) (rows purged; tombstone kept)",
                "\(installation.home.cacheDirectory)/\(tenant) and \(installation.home.temporaryDirectory)/\(tenant) (removed)",
            ],
            verification: evidence.checks ?? [],
            started: entry.state.executionStarted ?? entry.request.requested, finished: installation.nowText,
            software: .init(name: "lethe", version: Lethe.version, host: ProcessInfo.processInfo.hostName),
            signer: .init(keyFingerprint: try signing.fingerprint, publicKey: try signing.publicKey.pemRepresentation),
            auditLog: .init(
                leafIndex: leaf.index, entry: String(decoding: try leaf.canonicalBytes(), as: UTF8.self), treeSize: proof.treeSize,
                checkpoint: proof.checkpoint, inclusionProof: proof.path),
            outsideReach: DestructionReport.outsideReach)
        let json = try report.canonicalBytes()
        try reports.save(reportID, json: json, signature: try signing.sign(json), html: ReportRenderer.html(report))
        try installation.catalog().addReport(Catalog.ReportRow(
            id: reportID, tenant: tenant, request: entry.id, finished: report.finished, sha256: Hex.encode(try SHA256.hash(json))))
        try trail.record("report.issued", tenant: try TenantID(tenant), details: [
            "report": reportID, "sha256": Hex.encode(try SHA256.hash(json)),
        ])
        return ["report": reportID, "auditLeaf": String(leaf.index)]
    }
}

/// Facts about this build of Lethe.
public enum Lethe {
    public static let version = "0.1.0"
}
