import Foundation
import Glibc
import LetheCrypto
import LetheKeys
import LetheRepository
import LetheStore

/// Executes an approved destruction as journaled steps (`DestructionStep`). Execution starts
/// only after `DestructionAuthority` has re-checked everything and the start is logged; each
/// step is idempotent and is logged when done, so a run killed at any point resumes where it
/// stopped, and a run after completion changes nothing. What a resumed run relies on is the
/// proven audit log, never a file the store or the home could have edited.
public struct DestructionExecutor: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

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

    /// Executes request `id`, holding its lease: a second execution at the same time waits,
    /// then finds it done.
    public func execute(_ id: String) throws -> Outcome {
        try DestructionRequests(installation).exclusively(id) { try executeHoldingLease(id) }
    }

    private func executeHoldingLease(_ id: String) throws -> Outcome {
        var entry = try DestructionRequests(installation).authenticated(id)
        switch entry.state.phase {
        case .completed(_, let report):
            return Outcome(request: entry, report: try ReportStore(store: installation.store).load(report), performed: false)
        case .pending:
            throw LetheError.refused("destruction request \(id) lacks approvals: it needs \(entry.request.policy.summary)")
        case .cancelled(let cancellation):
            throw LetheError.refused("destruction request \(id) was cancelled on \(cancellation.at)")
        case .approved:
            entry = try start(entry)
        case .executing:
            break
        }
        for step in DestructionStep.allCases {
            guard case .executing(let execution) = entry.state.phase else { break }
            if execution.finished(step) != nil { continue }
            entry = try perform(step, entry: entry, execution: execution)
        }
        guard let report = entry.state.report else {
            throw LetheError.integrity("destruction \(id) ran every step but has no report")
        }
        return Outcome(request: entry, report: try ReportStore(store: installation.store).load(report), performed: true)
    }

    /// The full re-check, then the evidence of the state before anything irreversible: the
    /// KEK epoch, the key about to be revoked, and a ciphertext kept as a sample.
    private func start(_ entry: DestructionRequests.Entry) throws -> DestructionRequests.Entry {
        try DestructionAuthority(installation).requireExecutable(entry)
        let tenant = try TenantID(entry.request.tenant)
        let objects = try installation.store.list(prefix: tenant.storePrefix)
        let snapshots = objects.filter { if case .snapshot = Layout.classify($0.key, tenant: tenant) { return true } else { return false } }
        guard let sample = snapshots.min(by: { $0.size < $1.size }) ?? objects.first(where: { $0.key == Layout.record(tenant) }) else {
            throw LetheError.failed("tenant \(tenant) has no sealed object to keep as a ciphertext sample")
        }
        let bytes = try installation.store.get(sample.key)
        try installation.store.put(DestructionRequests.sampleKey(entry.id), bytes)
        let keystore = try installation.keystore()
        guard let key = try keystore.keyInfo(for: tenant) else { throw KeyError.noTenantKey(tenant) }
        return try DestructionRequests(installation).transition(entry, .start, [
            "kekEpochBefore": String(try keystore.status().epoch.number), "sample": sample.key.rawValue,
            "sampleSHA256": Hex.encode(try SHA256.hash(bytes)), "dekID": key.dekID, "dekCommitment": key.commitment,
        ]).0
    }

    /// Performs `step` and logs it done.
    private func perform(
        _ step: DestructionStep, entry: DestructionRequests.Entry, execution: DestructionState.Execution
    ) throws -> DestructionRequests.Entry {
        if step == .report { return try ReportIssuer(installation: installation).issue(entry) }
        let detail = try work(step, entry: entry, execution: execution)
        FaultPoint.reach("destroy.\(step.rawValue)")
        var details = ["step": step.rawValue]
        for (key, value) in detail { details["detail.\(key)"] = value }
        return try DestructionRequests(installation).transition(entry, .step, details).0
    }

    /// The work of one step; what it returns is logged with it.
    private func work(
        _ step: DestructionStep, entry: DestructionRequests.Entry, execution: DestructionState.Execution
    ) throws -> [String: String] {
        let tenant = try TenantID(entry.request.tenant)
        switch step {
        case .block:
            // Waits out work running on the tenant; nothing new starts while the request is open.
            let repository = try installation.repository(for: tenant)
            let lock = try TenantLock.acquire(repository, exclusive: true, operation: "destroy", clock: installation.clock)
            lock.release()
            return [:]
        case .revokeKey:
            let keystore = try installation.keystore()
            let ratchet = try keystore.revoke(tenant)
            // A run resumed after the ratchet committed finds no key left to revoke: the start
            // evidence names the entry that was there, read from the keystore before the ratchet.
            let revoked = ratchet.revoked?.commitment ?? execution.evidence.dekCommitment
            return ["kekEpochAfter": String(try keystore.status().epoch.number), "revokedCommitment": revoked]
        case .deleteObjects:
            // Every version and delete marker, by id: on a versioned bucket a plain delete would
            // only add a marker and leave every old version readable.
            let store = installation.store
            var (versions, markers) = (0, 0)
            for _ in 0..<3 {
                let left = try store.versions(prefix: tenant.storePrefix) + store.versions(prefix: Layout.lockPrefix(tenant))
                if left.isEmpty { break }
                for version in left {
                    try store.delete(version)
                    if version.isDeleteMarker { markers += 1 } else { versions += 1 }
                }
            }
            try store.discardIncompleteWrites(prefix: tenant.storePrefix)
            return ["objectsDeleted": String(versions), "deleteMarkersDeleted": String(markers)]
        case .purgeCatalog:
            let catalog = try installation.catalog()
            try catalog.addTombstone(Catalog.Tombstone(
                tenant: tenant, report: DestructionExecutor.reportID(for: entry.id), destroyedAt: installation.nowText))
            try catalog.purge(tenant)
            return [:]
        case .clearCaches:
            for path in DestructionExecutor.localLeftovers(of: tenant, home: installation.home) {
                try FileSystem.removeTree(path)
            }
            return [:]
        case .verify:
            let checks = try DestructionVerifier(
                installation: installation, tenant: tenant, requestID: entry.id, evidence: execution.evidence).run()
            let encoded = String(decoding: try JSONEncoder().encode(checks), as: UTF8.self)
            guard checks.allSatisfy(\.passed) else {
                try AuditTrail(installation).record("destroy.check-failed", tenant: tenant, details: ["request": entry.id, "checks": encoded])
                let failedChecks = checks.filter { !$0.passed }.map { "\($0.check): \($0.detail)" }
                let failed = failedChecks.joined(separator: "; ")
                // Data that should be gone may still be readable: a confidentiality incident.
                _ = Incidents(installation).detect([Incidents.Detection(
                    type: .confidentiality, key: "destruction-check/\(entry.id)",
                    summary: "destruction \(entry.id) of \(tenant) did not verify: \(failedChecks.count) check(s) failed",
                    source: "destroy", tenants: [tenant.rawValue], objects: failedChecks)])
                throw LetheError.integrity("destruction of \(tenant) did not verify: \(failed); fix and run `lethe destroy execute \(entry.id)` again")
            }
            return ["checks": encoded]
        case .report:
            return [:]
        }
    }

    /// The tenant's local cache and temporary folders, where they exist.
    static func localLeftovers(of tenant: TenantID, home: Home) -> [String] {
        [home.cacheDirectory(of: tenant), home.temporaryDirectory(of: tenant)].filter(FileSystem.exists)
    }
}
