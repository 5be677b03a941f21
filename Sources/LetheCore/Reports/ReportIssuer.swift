import Foundation
import LetheCrypto
import LetheKeys
import LetheStore

/// The last step of a destruction: logs the execution, then builds, signs and stores the
/// report with the log entry's inclusion proof, then logs the report. Safe to run again after
/// a crash: an execution already logged, or a report already stored, is reused.
struct ReportIssuer {
    let installation: Installation

    func issue(_ start: DestructionRequests.Entry) throws -> DestructionRequests.Entry {
        var entry = start
        guard let execution = entry.state.execution else {
            throw LetheError.integrity("destruction \(entry.id) has not started; there is nothing to report")
        }
        let requests = DestructionRequests(installation)
        let reportID = DestructionExecutor.reportID(for: entry.id)
        let tenant = try TenantID(entry.request.tenant)
        let checks = execution.checks ?? []
        let revoked = execution.revokedCommitment ?? execution.evidence.dekCommitment
        if !execution.executionLogged {
            entry = try requests.transition(entry, .execute, [
                "report": reportID, "requestSHA256": entry.state.requestSHA256, "inventoryDigest": entry.request.inventory.digest,
                "objects": String(entry.request.inventory.objectCount), "kekEpochBefore": String(execution.evidence.kekEpochBefore),
                "kekEpochAfter": String(execution.kekEpochAfter ?? 0), "dekCommitment": revoked,
                "checks": "\(checks.filter(\.passed).count)/\(checks.count) passed",
            ]).0
        }
        let reports = ReportStore(store: installation.store)
        let stored: ReportStore.Stored
        if let existing = try? reports.load(reportID) {
            stored = existing
        } else {
            stored = try build(entry, reportID: reportID, revokedCommitment: revoked, checks: checks)
        }
        FaultPoint.reach("destroy.report")
        try installation.catalog().addReport(Catalog.ReportRow(
            id: reportID, tenant: tenant.rawValue, request: entry.id, finished: stored.report.finished,
            sha256: Hex.encode(try SHA256.hash(stored.json))))
        return try requests.transition(entry, .reportIssued, ["report": reportID, "sha256": Hex.encode(try SHA256.hash(stored.json))]).0
    }

    private func build(
        _ entry: DestructionRequests.Entry, reportID: String, revokedCommitment: String, checks: [VerificationCheck]
    ) throws -> ReportStore.Stored {
        guard let execution = entry.state.execution else { throw LetheError.integrity("destruction \(entry.id) has not started") }
        let signing = try installation.signingKey()
        let history = try AuditTrail(installation).history()
        guard let leaf = history.entries.last(where: { $0.operation == DestructionState.Operation.execute.rawValue && $0.details["request"] == entry.id }) else {
            throw LetheError.integrity("the audit log has no execution entry for \(entry.id)")
        }
        let proof = try history.prove(index: leaf.index)
        let registry = AuthorizerRegistry(installation)
        let judging = try registry.chain().document(entry.request.registry.version)
        var approvalKeys: [String: String] = [:]
        for approval in entry.state.approvals {
            approvalKeys[approval.authorizer] = judging?.authorizer(fingerprint: approval.keyFingerprint)?.publicKey
        }
        let keystore = try installation.keystore()
        let store = installation.store.location
        let tenant = entry.request.tenant
        let report = DestructionReport(
            reportID: reportID,
            tenant: .init(id: tenant, name: entry.request.tenantName),
            reason: entry.request.reason, legalBasis: entry.request.reason.legalBasis,
            request: .init(
                id: entry.id, requester: entry.request.requester, requested: entry.request.requested, note: entry.request.note,
                sha256: Hex.encode(try SHA256.hash(entry.bytes)), bytes: Data(entry.bytes).base64EncodedString()),
            policy: entry.request.policy, gracePeriodHours: entry.request.gracePeriodHours,
            registry: .init(
                version: entry.request.registry.version, sha256: entry.request.registry.sha256,
                chain: try registry.envelopes(through: entry.request.registry.version)),
            approvals: entry.state.approvals, approvalKeys: approvalKeys,
            method: DestructionReport.method,
            keyEvidence: .init(
                dekID: execution.evidence.dekID, dekCommitment: revokedCommitment,
                kekEpochBefore: execution.evidence.kekEpochBefore, kekEpochAfter: execution.kekEpochAfter ?? 0,
                kekProvider: keystore.provider.location),
            inventory: entry.request.inventory,
            storage: .init(
                location: installation.store.location, versioning: entry.request.versioning,
                versionsDeleted: execution.objectsDeleted ?? 0,
                deleteMarkersDeleted: execution.finished(.deleteObjects)?.detail["deleteMarkersDeleted"].flatMap(Int.init) ?? 0),
            storageLocations: [
                "\(store)/tenants/\(tenant)/ (every object, deleted)",
                "\(store)/locks/\(tenant)/ (locks, deleted)",
                "\(store): unfinished writes of the tenant (discarded)",
                "\(keystore.path) (DEK entry removed, keystore re-wrapped under a new KEK epoch)",
                "\(keystore.provider.location) (previous KEK epoch destroyed)",
                "\(installation.home.catalogPath) (rows purged; tombstone kept)",
                "\(installation.home.cacheDirectory)/\(tenant) and \(installation.home.temporaryDirectory)/\(tenant) (removed)",
            ],
            verification: checks,
            started: execution.started, finished: installation.nowText,
            software: .init(name: "lethe", version: Lethe.version, host: ProcessInfo.processInfo.hostName),
            signer: .init(keyFingerprint: try signing.fingerprint),
            auditLog: .init(
                leafIndex: leaf.index, entry: String(decoding: history.bytes[leaf.index], as: UTF8.self), treeSize: proof.treeSize,
                checkpoint: proof.checkpoint, inclusionProof: proof.path),
            outsideReach: DestructionReport.outsideReach,
            register: entry.request.register)
        let json = try report.canonicalBytes()
        let signature = try signing.sign(json)
        try ReportStore(store: installation.store).save(reportID, json: json, signature: signature, html: ReportRenderer.html(report))
        return ReportStore.Stored(id: reportID, json: json, signature: signature, report: report)
    }
}

/// Facts about this build of Lethe.
public enum Lethe {
    public static let version = "0.1.0"
}
