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

    public func forget(_ tenant: TenantID, dryRun: Bool) throws -> Result {
        let record = try TenantRegistry(installation).record(tenant)
        guard record.state == .active else {
            throw LetheError.refused("tenant \(tenant) is offboarded: its snapshots are kept whole for the restore window, not thinned by retention")
        }
        try Lifecycle(installation).requireNoOpenDestruction(tenant, doing: "forget snapshots of")
        let policy = record.retention ?? installation.configuration.retention
        let repository = try installation.repository(for: tenant)
        let lock = try TenantLock.acquire(repository, exclusive: true, operation: "forget", clock: installation.clock)
        defer { lock.release() }
        let snapshots = try repository.snapshots()
        let decisions = RetentionSelector.decide(policy, snapshots.compactMap { id, snapshot in
            Timestamp.parse(snapshot.time).map { RetentionSelector.Candidate(id: id.hex, time: $0) }
        })
        let removals = decisions.filter { !$0.keep }
        if !dryRun {
            let catalog = try installation.catalog()
            for decision in removals {
                let id = SnapshotID(hex: decision.snapshot)!
                try repository.deleteSnapshot(id)
                try catalog.removeSnapshot(tenant: tenant, id: id)
            }
            if !removals.isEmpty { try catalog.pruneTrees(tenant: tenant) }
            try AuditTrail(installation).record("forget", tenant: tenant, details: [
                "removed": String(removals.count), "policy": policy.summary,
                "snapshots": removals.map(\.snapshot).joined(separator: " "),
            ])
        }
        return Result(tenant: tenant.rawValue, policy: policy.summary, decisions: decisions, removed: removals.count, dryRun: dryRun)
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

    public func prune(_ tenant: TenantID, maxUnusedPercent: Int?, dryRun: Bool) throws -> Result {
        _ = try TenantRegistry(installation).record(tenant)
        try Lifecycle(installation).requireNoOpenDestruction(tenant, doing: "prune")
        let repository = try installation.repository(for: tenant)
        let lock = try TenantLock.acquire(repository, exclusive: true, operation: "prune", clock: installation.clock)
        defer { lock.release() }
        if !dryRun { try installation.store.discardIncompleteWrites(prefix: tenant.storePrefix) }
        let result = try Pruner(repository: repository).run(
            maxUnusedPercent: maxUnusedPercent ?? installation.configuration.pruneMaxUnusedPercent, dryRun: dryRun)
        if !dryRun {
            try installation.catalog().sync(repository)
            try AuditTrail(installation).record("prune", tenant: tenant, details: [
                "packsDeleted": String(result.packsUnused + result.packsUnindexed + result.packsRepacked),
                "packsRepacked": String(result.packsRepacked), "bytesFreed": String(result.bytesFreed),
            ])
        }
        return Result(tenant: tenant.rawValue, result: result)
    }
}
