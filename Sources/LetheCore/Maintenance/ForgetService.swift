import Foundation
import LetheRepository
import LetheStore

/// `lethe forget`: applies the retention policy to an active tenant's snapshots.
public struct ForgetService: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Result: Codable, Sendable {
        public let tenant: String
        public let policy: String
        public let decisions: [RetentionSelector.Decision]
        public let removed: Int
        public let dryRun: Bool
    }

    /// `record`, when the caller has just read it from the store (the nightly run has), saves
    /// reading and decrypting it again to find that there is nothing to forget; before anything
    /// is deleted, it is read again under the lock (the tenant may have been offboarded since).
    public func forget(_ tenant: TenantID, dryRun: Bool, record known: TenantRecord? = nil) throws -> Result {
        var record = try known.flatMap { $0.id == tenant ? $0 : nil } ?? TenantRegistry(installation).record(tenant)
        guard record.state == .active else {
            throw LetheError.refused("tenant \(tenant) is offboarded: its snapshots are kept whole for the restore window, not thinned by retention")
        }
        try Lifecycle(installation).requireNoOpenDestruction(tenant, doing: "forget snapshots of")
        var policy = record.retention ?? installation.configuration.retention
        let repository = try installation.repository(for: tenant)
        func decide() throws -> [RetentionSelector.Decision] {
            RetentionSelector.decide(policy, try repository.snapshots().compactMap { id, snapshot in
                Timestamp.parse(snapshot.time).map { RetentionSelector.Candidate(id: id.hex, time: $0) }
            })
        }
        // Decided first without the lock: a pass with nothing to forget (most nights, for most
        // tenants) writes nothing at all, not even a lock or an audit entry.
        var decisions = try decide()
        guard !dryRun, decisions.contains(where: { !$0.keep }) else {
            return Result(
                tenant: tenant.rawValue, policy: policy.summary, decisions: decisions, removed: decisions.filter { !$0.keep }.count, dryRun: dryRun)
        }
        let lock = try TenantLock.acquire(repository, exclusive: true, operation: "forget", clock: installation.clock)
        defer { lock.release() }
        if known != nil {
            record = try TenantRegistry(installation).record(tenant)
            guard record.state == .active else {
                throw LetheError.refused("tenant \(tenant) was offboarded during this run: its snapshots are kept whole")
            }
            policy = record.retention ?? installation.configuration.retention
        }
        decisions = try decide()
        let removals = decisions.filter { !$0.keep }
        if !removals.isEmpty {
            let catalog = try installation.catalog()
            for decision in removals {
                let id = SnapshotID(hex: decision.snapshot)!
                try repository.deleteSnapshot(id)
                try catalog.removeSnapshot(tenant: tenant, id: id)
            }
            try catalog.pruneTrees(tenant: tenant)
            // One entry per 512 snapshots, so that an entry stays within a bundle's 64 KiB.
            let chunks = stride(from: 0, to: removals.count, by: 512).map { Array(removals[$0..<min($0 + 512, removals.count)]) }
            try AuditTrail(installation).record(chunks.map { chunk in
                AuditLog.Event("forget", tenant: tenant.rawValue, details: [
                    "removed": String(chunk.count), "policy": policy.summary,
                    "snapshots": chunk.map(\.snapshot).joined(separator: " "),
                ])
            })
        }
        return Result(tenant: tenant.rawValue, policy: policy.summary, decisions: decisions, removed: removals.count, dryRun: false)
    }
}

/// `lethe prune`: removes unreferenced data and repacks sparse packs for one tenant.
public struct PruneService: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Result: Codable, Sendable {
        public let tenant: String
        public let result: Pruner.Result
    }

    public func prune(_ tenant: TenantID, maxUnusedPercent: Int?, dryRun: Bool, record known: TenantRecord? = nil) throws -> Result {
        if known?.id != tenant { _ = try TenantRegistry(installation).record(tenant) }
        try Lifecycle(installation).requireNoOpenDestruction(tenant, doing: "prune")
        let repository = try installation.repository(for: tenant)
        let threshold = maxUnusedPercent ?? installation.configuration.pruneMaxUnusedPercent
        // Looked at first without the lock: a prune with nothing to delete and no interrupted
        // writes to clear writes nothing at all.
        let survey = try Pruner(repository: repository).run(maxUnusedPercent: threshold, dryRun: true)
        let nothingToDo = survey.packsUnused + survey.packsUnindexed + survey.packsRepacked == 0
        let incomplete = try installation.store.hasIncompleteWrites(prefix: tenant.storePrefix)
        if dryRun || (nothingToDo && !incomplete) {
            return Result(tenant: tenant.rawValue, result: survey)
        }
        let lock = try TenantLock.acquire(repository, exclusive: true, operation: "prune", clock: installation.clock)
        defer { lock.release() }
        try installation.store.discardIncompleteWrites(prefix: tenant.storePrefix)
        let result = try Pruner(repository: repository).run(maxUnusedPercent: threshold, dryRun: false)
        try installation.catalog().sync(repository)
        try AuditTrail(installation).note("prune", tenant: tenant, details: [
            "packsDeleted": String(result.packsUnused + result.packsUnindexed + result.packsRepacked),
            "packsRepacked": String(result.packsRepacked), "bytesFreed": String(result.bytesFreed),
        ])
        return Result(tenant: tenant.rawValue, result: result)
    }
}
