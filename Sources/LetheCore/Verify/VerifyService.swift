import Foundation
import LetheRepository
import LetheStore

/// `lethe verify`: checks tenants' repositories from the store alone.
public struct VerifyService: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Result: Codable, Sendable {
        public let tenant: String
        public var report: Checker.Report
        /// Set when the repository could not be opened at all.
        public let error: String?

        public var isClean: Bool { error == nil && report.isClean }
    }

    /// Verifies each tenant; `readPacks` picks the packs whose data is decrypted. Besides the
    /// store's own consistency, each tenant's snapshots are compared with the audit log: a
    /// snapshot it logged and never forgot that is gone, or one it forgot that is back, is an
    /// integrity violation naming the snapshot. A genuine snapshot the log lacks (a backup that
    /// crashed before logging it) is logged now, as `backup.recovered`. The outcome of each
    /// tenant is appended to the audit log, and each tenant with an integrity violation is an
    /// integrity incident (opened, or updated when one is running for it); `source` says what
    /// found it (`verify`, `nightly`).
    public func verify(
        _ tenants: [TenantID], source: String = "verify", readPacks: @escaping (TenantID, PackID) -> Bool
    ) throws -> [Result] {
        var logged = LoggedSnapshots(try AuditTrail(installation).history())
        var recovered: [AuditLog.Event] = []
        var results = tenants.map { tenant in
            do {
                let repository = try installation.repository(for: tenant)
                // Checked first without a lock, which would cost two writes a tenant a night.
                // A concurrent prune, forget or backup can only make an unlocked check see
                // too little or too much, never hide damage; so a check that found anything
                // is repeated under the shared lock, against the log as it is then, and that
                // result is the one reported.
                var (report, unlogged) = try check(tenant, repository, logged: logged, readPacks: readPacks)
                if !report.isClean || !unlogged.isEmpty {
                    let lock = try TenantLock.acquire(repository, exclusive: false, operation: "verify", clock: installation.clock)
                    defer { lock.release() }
                    logged = LoggedSnapshots(try AuditTrail(installation).history())
                    (report, unlogged) = try check(tenant, repository, logged: logged, readPacks: readPacks)
                }
                for id in unlogged {
                    report.notes.append("\(Layout.snapshot(tenant, id)): a genuine snapshot the audit log lacked (a backup interrupted before it was logged); logged now")
                    recovered.append(AuditLog.Event("backup.recovered", tenant: tenant.rawValue, details: ["snapshot": id.hex]))
                }
                return Result(tenant: tenant.rawValue, report: report, error: nil)
            } catch let error as KindedError where error.kind == .integrity {
                var report = Checker.Report()
                report.errors.append("\(error)")
                return Result(tenant: tenant.rawValue, report: report, error: nil)
            } catch {
                return Result(tenant: tenant.rawValue, report: Checker.Report(), error: "\(error)")
            }
        }
        try AuditTrail(installation).note(recovered + results.map { result in
            AuditLog.Event("verify", tenant: result.tenant, details: [
                "packsRead": String(result.report.packsRead),
                "errors": String(result.report.errors.count + (result.error == nil ? 0 : 1)),
            ])
        })
        for index in results.indices where !results[index].report.errors.isEmpty {
            let result = results[index]
            if let failure = Incidents(installation).detect([Incidents.Detection(
                type: .integrity, key: "integrity/verify/\(result.tenant)",
                summary: "verification of \(result.tenant) found \(result.report.errors.count) integrity violation(s)",
                source: source, tenants: [result.tenant], objects: result.report.errors)]).first {
                results[index].report.notes.append(failure)
            }
        }
        return results
    }

    /// One tenant's repository checked, and compared with what the log says its snapshots are;
    /// with the genuine snapshots the log lacks.
    private func check(
        _ tenant: TenantID, _ repository: Repository, logged: LoggedSnapshots, readPacks: (TenantID, PackID) -> Bool
    ) throws -> (Checker.Report, [SnapshotID]) {
        var report = try Checker(repository: repository).run { readPacks(tenant, $0) }
        if try !installation.store.exists(Layout.record(tenant)) {
            report.errors.append("\(Layout.record(tenant)): missing (the tenant's record), though the keystore holds its key")
        }
        // The erasure ledger must be the version the audit log names (a crashed request one
        // version ahead is logged by `load`).
        do {
            _ = try ErasureLedgers(installation).load(tenant, repository: repository)
        } catch let error as KindedError where error.kind == .integrity {
            report.errors.append("\(error)")
        }
        let comparison = logged.compare(tenant, store: try repository.snapshotIDs())
        report.errors += comparison.missing + comparison.resurrected
        return (report, comparison.unlogged.filter { (try? repository.loadSnapshot($0)) != nil })
    }
}
