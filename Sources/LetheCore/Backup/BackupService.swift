import Foundation
import LetheKeys
import LetheRepository
import LetheStore

/// What happened to one tenant in a backup run: the JSON summary of `lethe backup --json`.
public struct TenantBackupResult: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// A snapshot was written and every file was read.
        case succeeded
        /// A snapshot was written, but some files could not be read (see `summary.errors`).
        case partial
        /// No snapshot was written.
        case failed
    }

    public var tenant: String
    public var status: Status
    public var snapshot: String?
    public var parent: String?
    public var summary: BackupSummary?
    public var durationSeconds: Double
    public var error: String?
}

/// Backs up tenants, several at a time, each into its own repository; one tenant's failure
/// never stops the others.
public final class BackupService: @unchecked Sendable {
    private let installation: Installation
    private let progress: (@Sendable (TenantID, BackupSummary) -> Void)?
    public static let program = "lethe 0.1.0"

    public init(installation: Installation, progress: (@Sendable (TenantID, BackupSummary) -> Void)? = nil) {
        self.installation = installation
        self.progress = progress
    }

    /// Backs up `tenants`, at most `workers` at a time, largest first; results in input order.
    /// Every tenant's outcome is appended to the audit log. No snapshot may stand in the store
    /// without its audit entry: the signing key is loaded before any work, and if the append
    /// fails anyway, the snapshots this run made are withdrawn before the error is thrown (their
    /// data, referenced by nothing, is left for prune). A crash between the two leaves a genuine
    /// snapshot the log does not know, which `verify` records when it finds it.
    public func run(_ tenants: [TenantID], workers: Int = 2) throws -> [TenantBackupResult] {
        guard !tenants.isEmpty else { return [] }
        _ = try installation.signingKey()
        // Largest first, so that the longest backup does not start last; an unreadable catalog
        // only costs that ordering (each backup reports the catalog's error itself).
        let sizes = (try? installation.catalog().latestSnapshots().mapValues(\.bytes)) ?? [:]
        let order = tenants.indices.sorted { sizes[tenants[$0].rawValue, default: 0] > sizes[tenants[$1].rawValue, default: 0] }
        let results = ResultSlots<TenantBackupResult>(count: tenants.count)
        let next = WorkCounter()
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, tenants.count))) { _ in
            while let position = next.take(below: order.count) {
                let index = order[position]
                results.set(index, self.backup(tenants[index]))
            }
        }
        let outcomes = results.values
        guard !outcomes.isEmpty else { return outcomes }
        do {
            try AuditTrail(installation).record(outcomes.map { result in
                AuditLog.Event("backup", tenant: result.tenant, details: [
                    "status": result.status.rawValue, "snapshot": result.snapshot ?? "", "error": result.error ?? "",
                    "bytesAdded": String(result.summary?.bytesAdded ?? 0),
                ].filter { !$0.value.isEmpty })
            })
        } catch {
            try withdraw(outcomes)
            throw error
        }
        return outcomes
    }

    private func backup(_ tenant: TenantID) -> TenantBackupResult {
        let started = Date()
        var result = TenantBackupResult(tenant: tenant.rawValue, status: .failed, durationSeconds: 0)
        do {
            let record = try TenantRegistry(installation).record(tenant)
            try Lifecycle(installation).requireBackupAllowed(record)
            let repository = try installation.repository(for: tenant)
            let lock = try TenantLock.acquire(repository, exclusive: true, operation: "backup", clock: installation.clock)
            defer { lock.release() }
            // A destruction may have been requested while the lock was being taken.
            try Lifecycle(installation).requireNoOpenDestruction(tenant, doing: "back up")
            // Under the exclusive lock no one else writes for this tenant: what a crashed
            // writer left half-written can go.
            try installation.store.discardIncompleteWrites(prefix: tenant.storePrefix)
            let catalog = try installation.catalog()
            try catalog.sync(repository)
            let parent = try latestSnapshot(repository, catalog: catalog)
            let archiver = Archiver(repository: repository, options: Archiver.Options(
                host: ProcessInfo.processInfo.hostName, time: installation.now, program: BackupService.program,
                temporaryDirectory: installation.home.temporaryDirectory(of: tenant),
                progress: progress.map { report in { summary in report(tenant, summary) } }))
            let backup = try archiver.backup(sources: record.sources, parent: parent)
            try catalog.recordBackup(tenant: tenant, result: backup)
            result.snapshot = backup.snapshotID.hex
            result.parent = parent?.id.hex
            result.summary = backup.snapshot.summary
            result.status = backup.snapshot.summary.errors.isEmpty && backup.snapshot.summary.warnings.isEmpty ? .succeeded : .partial
        } catch {
            result.error = "\(error)"
        }
        result.durationSeconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
        return result
    }

    /// Deletes the snapshots `outcomes` made, which could not be logged.
    private func withdraw(_ outcomes: [TenantBackupResult]) throws {
        for result in outcomes {
            guard let hex = result.snapshot, let id = SnapshotID(hex: hex) else { continue }
            let tenant = try TenantID(result.tenant)
            try installation.store.delete(Layout.snapshot(tenant, id))
            try installation.catalog().removeSnapshot(tenant: tenant, id: id)
        }
    }

    /// The newest snapshot, found through the catalog (just synced with the store).
    private func latestSnapshot(_ repository: Repository, catalog: Catalog) throws -> (id: SnapshotID, snapshot: Snapshot)? {
        guard let row = try catalog.snapshots(of: repository.tenant).last else { return nil }
        let id = try row.snapshotID()
        return (id, try repository.loadSnapshot(id))
    }
}

/// Results written by index from several workers.
final class ResultSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: T) {
        lock.withLock { slots[index] = value }
    }

    var values: [T] {
        lock.withLock { slots.compactMap { $0 } }
    }
}
