import Foundation
import LetheRepository
import LetheStore

/// `lethe export`: a tenant's snapshot as a pax tar archive, for access and portability
/// requests. Allowed wherever a restore is; the tenant's erasure ledger applies as it does to
/// a restore.
public struct ExportService: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Result: Codable, Sendable {
        public let tenant: String
        public let snapshot: String
        public let snapshotTime: String
        public let output: String
        public let summary: Exporter.Summary
        /// Notifications that failed (already recorded in the audit log).
        public let notificationFailures: [String]
    }

    public func export(tenant: TenantID, snapshot spec: String?, output: String) throws -> Result {
        let release = DataRelease(installation)
        let path = FileSystem.absolute(output)
        let (row, (summary, failures)) = try release.withSnapshot(of: tenant, spec, operation: "export") { repository, row, snapshot in
            let exporter = Exporter(repository: repository)
            let plan = try exporter.plan(snapshot, erasure: try ErasureLedgers(installation).filter(for: tenant, repository: repository))
            return (row, try release.release(
                "export", tenant: tenant, snapshot: row.id, destination: path, files: plan.files, bytes: plan.bytes,
                details: plan.erasure?.auditDetails ?? [:]) {
                try exporter.write(plan, to: output)
            })
        }
        return Result(
            tenant: tenant.rawValue, snapshot: row.id, snapshotTime: row.time, output: path, summary: summary,
            notificationFailures: failures)
    }
}
