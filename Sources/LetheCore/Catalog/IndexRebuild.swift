import Foundation
import LetheCrypto
import LetheRepository
import LetheStore

/// `lethe index rebuild`: recreates the catalog from the object store alone.
///
/// The new catalog is built beside the old one and renamed over it when complete, so an
/// interrupted rebuild leaves the old catalog in place; running the rebuild again is always
/// safe.
public struct IndexRebuild: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Result: Codable, Sendable {
        public var tenants = 0
        public var snapshots = 0
        public var tombstones = 0
        public var problems: [String] = []
    }

    public func run() throws -> Result {
        installation.closeCatalog()
        return try rebuild()
    }

    /// The rebuild itself; the caller has no catalog connection open.
    func rebuild() throws -> Result {
        let path = installation.home.catalogPath
        let building = path + ".rebuild"
        for suffix in ["", "-wal", "-shm"] { try FileSystem.removeFile(building + suffix) }
        var result = Result()
        do {
            let catalog = try Catalog(path: building)
            // Destroyed tenants stay refused: their reports are in the store.
            let reports = ReportStore(store: installation.store)
            for id in try reports.ids() {
                do {
                    let stored = try reports.load(id)
                    let report = stored.report
                    try catalog.addTombstone(Catalog.Tombstone(tenant: try TenantID(report.tenant.id), report: id, destroyedAt: report.finished))
                    try catalog.addReport(Catalog.ReportRow(
                        id: id, tenant: report.tenant.id, request: report.request.id, finished: report.finished,
                        sha256: Hex.encode(try SHA256.hash(stored.json))))
                } catch {
                    // A report this version cannot read still says its tenant is gone: keep the
                    // tombstone, so the tenant cannot be added again, and name the report.
                    result.problems.append("reports/\(id).json: \(error)")
                    guard let tenant = try reports.destroyedTenant(id) else { continue }
                    try catalog.addTombstone(Catalog.Tombstone(tenant: tenant.0, report: id, destroyedAt: tenant.finished))
                }
                result.tombstones += 1
            }
            let tenantsPrefix = try ObjectKey("tenants")
            for name in try installation.store.children(of: tenantsPrefix) {
                guard let tenant = try? TenantID(name) else {
                    result.problems.append("tenants/\(name): not a valid tenant id, skipped")
                    continue
                }
                do {
                    try rebuildTenant(tenant, into: catalog, result: &result)
                } catch {
                    result.problems.append("tenant \(tenant): \(error)")
                }
            }
            try catalog.read { db in try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        for suffix in ["-wal", "-shm"] { try FileSystem.removeFile(path + suffix) }
        try FileSystem.rename(building, to: path)
        for suffix in ["-wal", "-shm"] { try FileSystem.removeFile(building + suffix) }
        try AuditTrail(installation).record("index.rebuild", tenant: nil, details: [
            "tenants": String(result.tenants), "snapshots": String(result.snapshots), "tombstones": String(result.tombstones),
        ])
        return result
    }

    private func rebuildTenant(_ tenant: TenantID, into catalog: Catalog, result: inout Result) throws {
        let repository = try installation.repository(for: tenant)
        let key = Layout.record(tenant)
        let record = try TenantRecord.decode(try repository.getSealed(kind: .tenantRecord, name: tenant.rawValue, at: key), key: key)
        try catalog.upsert(record)
        try catalog.sync(repository)
        result.tenants += 1
        result.snapshots += try catalog.snapshots(of: tenant).count
    }
}
