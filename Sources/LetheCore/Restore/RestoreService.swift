import Foundation
import LetheRepository
import LetheStore

/// Restores a tenant's snapshot, for a returning client or a lost file.
public struct RestoreService: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Result: Codable, Sendable {
        public let tenant: String
        public let snapshot: String
        public let snapshotTime: String
        public let target: String
        public let path: String?
        public let summary: Restorer.Summary
        public let durationSeconds: Double
        /// Notifications that failed (already recorded in the audit log).
        public let notificationFailures: [String]
    }

    /// Restores with the tenant's erasure ledger applied (`ErasureLedgers.filter`): whatever
    /// `options.erasure` says, a restore never brings an erased person back.
    public func restore(tenant: TenantID, snapshot spec: String?, options: Restorer.Options) throws -> Result {
        let started = Date()
        let release = DataRelease(installation)
        let target = FileSystem.absolute(options.target)
        let (row, (summary, failures)) = try release.withSnapshot(of: tenant, spec, operation: "restore") { repository, row, snapshot in
            let restorer = Restorer(repository: repository)
            var options = options
            options.erasure = try ErasureLedgers(installation).filter(for: tenant, repository: repository)
            let plan = try restorer.plan(snapshot, options: options)
            return (row, try release.release(
                "restore", tenant: tenant, snapshot: row.id, destination: target + (options.subpath.map { " (path \($0))" } ?? ""),
                files: plan.files, bytes: plan.bytes, details: plan.erasure?.auditDetails ?? [:]) { try restorer.execute(plan) })
        }
        return Result(
            tenant: tenant.rawValue, snapshot: row.id, snapshotTime: row.time, target: target,
            path: options.subpath, summary: summary,
            durationSeconds: (Date().timeIntervalSince(started) * 1000).rounded() / 1000, notificationFailures: failures)
    }
}
