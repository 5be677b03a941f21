import Foundation
import Glibc
import LetheCrypto
import LetheKeys
import LetheRepository
import LetheStore

/// Executes an approved destruction as journaled steps. Each step is idempotent and is
/// recorded in the request's state when done, so a run killed at any point resumes where it
/// stopped, and a run after completion changes nothing.
///
///     block          refuse every other operation on the tenant; keep a ciphertext sample
///     revoke-key     remove the DEK and ratchet the KEK epoch (docs/keys.md)
///     delete-objects delete every object under tenants/<t>/, its locks and unfinished writes
///     purge-catalog  delete its catalog rows (secure_delete, checkpoint, vacuum); keep a tombstone
///     clear-caches   remove its local caches and temporary files
///     verify         the checks of DestructionVerifier, each recorded
///     report         log the execution, then sign and store the report
public struct DestructionExecutor: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public static let steps = ["block", "revoke-key", "delete-objects", "purge-catalog", "clear-caches", "verify", "report"]

    /// The report id of a request: `rpt-` and the request id's date and suffix.
    public static func reportID(for requestID: String) -> String {
        "rpt-" + requestID.dropFirst(3)
    }

    public struct Outcome: Sendable {
        public let request: DestructionRequests.Entry
        public let report: ReportStore.Stored
        /// False when the destruction had already completed and nothing was done.
        public let performed: Bool
    }

    public func execute(_ id: String) throws -> Outcome {
        let requests = DestructionRequests(installation)
        var entry = try requests.load(id)
        let tenant = try TenantID(entry.request.tenant)
        switch entry.status {
        case .completed:
            return Outcome(request: entry, report: try completedReport(entry), performed: false)
        case .pending:
            throw LetheError.refused("destruction request \(id) lacks approvals: it needs \(entry.request.policy.summary)")
        case .cancelled:
            throw LetheError.refused("destruction request \(id) was cancelled on \(entry.state.cancelled ?? "?")")
        case .approved:
            try start(&entry, tenant: tenant)
        case .executing:
            break
        }
        for step in DestructionExecutor.steps where entry.state.finished(step) == nil {
            let detail = try perform(step, entry: &entry, tenant: tenant)
            FaultPoint.reach("destroy.\(step)")
            entry.state.steps.append(StepRecord(step: step, finished: installation.nowText, detail: detail))
            if step == "report" {
                entry.state.status = .completed
                entry.state.report = DestructionExecutor.reportID(for: id)
            }
            try requests.save(entry.state, id: id)
        }
        return Outcome(request: entry, report: try completedReport(entry), performed: true)
    }

    private func completedReport(_ entry: DestructionRequests.Entry) throws -> ReportStore.Stored {
        guard let report = entry.state.report else {
            throw LetheError.integrity("\(DestructionRequests.stateKey(entry.id)) says completed but names no report")
        }
        return try ReportStore(store: installation.store).load(report)
    }

    /// Checks everything once more before the first irreversible step.
    private func start(_ entry: inout DestructionRequests.Entry, tenant: TenantID) throws {
        if let after = entry.state.executableAfter.flatMap(Timestamp.parse), installation.now < after {
            throw LetheError.refused("destruction request \(entry.id) is in its grace period until \(Timestamp.format(after)); it can still be cancelled")
        }
        let record = try TenantRegistry(installation).record(tenant)
        if let hold = record.legalHold {
            throw LetheError.refused("tenant \(tenant) was placed on legal hold (\(hold.reason)) after approval; cancel request \(entry.id)")
        }
        let authorizers = try AuthorizerRegistry(installation).all()
        for approval in entry.state.approvals {
            guard let authorizer = authorizers.first(where: { $0.name == approval.authorizer }),
                  let signature = Data(base64Encoded: approval.signature),
                  try authorizer.key().isValidSignature(Array(signature), for: entry.bytes) else {
                throw LetheError.integrity("the approval of \(approval.authorizer) on \(entry.id) no longer verifies")
            }
        }
        guard entry.request.policy.isSatisfied(by: entry.state.approvals) else {
            throw LetheError.refused("destruction request \(entry.id) lacks approvals: it needs \(entry.request.policy.summary)")
        }
        try DestructionRequests(installation).requireInventoryUnchanged(entry)
        entry.state.status = .executing
        entry.state.executionStarted = installation.nowText
        try DestructionRequests(installation).save(entry.state, id: entry.id)
    }

    private func perform(_ step: String, entry: inout DestructionRequests.Entry, tenant: TenantID) throws -> [String: String] {
        switch step {
        case "block":
            return try block(&entry, tenant: tenant)
        case "revoke-key":
            let ratchet = try installation.keystore().revoke(tenant)
            let after = try installation.keystore().status().epoch.number
            entry.state.evidence?.kekEpochAfter = after
            return ["kekEpochBefore": String(entry.state.evidence?.kekEpochBefore ?? ratchet.from.number), "kekEpochAfter": String(after)]
        case "delete-objects":
            var deleted = 0
            for object in try installation.store.list(prefix: tenant.storePrefix) + installation.store.list(prefix: Layout.lockPrefix(tenant)) {
                try installation.store.delete(object.key)
                deleted += 1
            }
            try installation.store.discardIncompleteWrites(prefix: tenant.storePrefix)
            let before = entry.state.evidence?.objectsDeleted ?? 0
            entry.state.evidence?.objectsDeleted = before + deleted
            return ["objectsDeleted": String(deleted)]
        case "purge-catalog":
            let catalog = try installation.catalog()
            try catalog.addTombstone(Catalog.Tombstone(
                tenant: tenant, report: DestructionExecutor.reportID(for: entry.id), destroyedAt: installation.nowText))
            try catalog.purge(tenant)
            return [:]
        case "clear-caches":
            for path in DestructionExecutor.localLeftovers(of: tenant, home: installation.home) {
                try FileSystem.removeTree(path)
            }
            return [:]
        case "verify":
            guard let evidence = entry.state.evidence else {
                throw LetheError.integrity("\(DestructionRequests.stateKey(entry.id)) lost the evidence of its first step")
            }
            let checks = try DestructionVerifier(installation: installation, tenant: tenant, requestID: entry.id, evidence: evidence).run()
            entry.state.evidence?.checks = checks
            guard checks.allSatisfy(\.passed) else {
                try DestructionRequests(installation).save(entry.state, id: entry.id)
                let failed = checks.filter { !$0.passed }.map { "\($0.check): \($0.detail)" }.joined(separator: "; ")
                throw LetheError.integrity("destruction of \(tenant) did not verify: \(failed); fix and run `lethe destroy execute \(entry.id)` again")
            }
            return Dictionary(uniqueKeysWithValues: checks.map { ($0.check, $0.passed ? "passed" : "failed") })
        case "report":
            return try ReportIssuer(installation: installation).issue(entry)
        default:
            preconditionFailure("unknown destruction step \(step)")
        }
    }

    /// Waits out running work on the tenant (its lock), then keeps a ciphertext sample.
    private func block(_ entry: inout DestructionRequests.Entry, tenant: TenantID) throws -> [String: String] {
        let repository = try installation.repository(for: tenant)
        let lock = try TenantLock.acquire(repository, exclusive: true, operation: "destroy", clock: installation.clock)
        lock.release()
        let objects = try installation.store.list(prefix: tenant.storePrefix)
        let snapshots = objects.filter { if case .snapshot = Layout.classify($0.key, tenant: tenant) { return true } else { return false } }
        guard let sample = snapshots.min(by: { $0.size < $1.size }) ?? objects.first(where: { $0.key == Layout.record(tenant) }) else {
            throw LetheError.failed("tenant \(tenant) has no sealed object to keep as a ciphertext sample")
        }
        let bytes = try installation.store.get(sample.key)
        try installation.store.put(DestructionRequests.sampleKey(entry.id), bytes)
        entry.state.evidence = ExecutionEvidence(
            kekEpochBefore: try installation.keystore().status().epoch.number, kekEpochAfter: nil,
            sampleObject: sample.key.rawValue, sampleSHA256: Hex.encode(try SHA256.hash(bytes)), objectsDeleted: nil, checks: nil)
        return ["sample": sample.key.rawValue]
    }

    /// The tenant's local cache and temporary folders, where they exist.
    static func localLeftovers(of tenant: TenantID, home: Home) -> [String] {
        [home.cacheDirectory(of: tenant), home.temporaryDirectory(of: tenant)].filter(FileSystem.exists)
    }
}
