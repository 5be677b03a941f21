import Foundation
import LetheCrypto
import LetheRepository
import LetheStore

/// One shard of the nightly run: the tenants whose id hashes to it, and their night's work, in
/// the order it must happen for each tenant: backup, retention and prune, a destruction request
/// if the tenant is due, verification.
struct NightlyShard {
    let installation: Installation
    let index: Int
    let tenants: [TenantRecord]

    /// Every tenant of the installation, in `count` shards, each with its record as the store
    /// holds it, sealed (the catalog's copy is an index H could edit); and the tenants whose
    /// record cannot be read, which only verification can say anything about.
    static func all(_ installation: Installation, count: Int) throws -> (shards: [NightlyShard], unreadable: [TenantID]) {
        var groups = Array(repeating: [TenantRecord](), count: count)
        var unreadable: [TenantID] = []
        let registry = TenantRegistry(installation)
        for id in try registry.everyTenant() {
            do {
                let record = try registry.record(id)
                groups[try shard(of: record.id, count: count)].append(record)
            } catch let error as KindedError where error.kind == .integrity {
                unreadable.append(id)
            }
        }
        let shards = groups.enumerated().map { NightlyShard(installation: installation, index: $0.offset, tenants: $0.element) }
        return (shards, unreadable)
    }

    /// The shard of `tenant`: the first byte of the SHA-256 of its id, modulo `count`, so every
    /// host puts a tenant in the same shard.
    static func shard(of tenant: TenantID, count: Int) throws -> Int {
        Int(try SHA256.hash(Array(tenant.rawValue.utf8))[0]) % count
    }

    func run(
        into summary: inout NightlyRun.Summary, options: NightlyRun.Options, rotation: (night: Int, nights: Int),
        progress: (@Sendable (TenantID, BackupSummary) -> Void)?
    ) throws {
        guard !tenants.isEmpty else { return }
        let mine = Set(tenants.map(\.id.rawValue))
        // Which tenants a destruction request holds (open, or damaged and so possibly open).
        var heldBy: [String: String] = [:]
        var requested = Set<String>()
        for listed in try DestructionRequests(installation).list() {
            switch listed {
            case .entry(let entry) where entry.status.isOpen && mine.contains(entry.request.tenant):
                heldBy[entry.request.tenant] = "destruction request \(entry.id) is \(entry.status.rawValue)"
                requested.insert(entry.request.tenant)
            case .damaged(let id, let tenant?, _) where mine.contains(tenant):
                heldBy[tenant] = "destruction request \(id) is damaged (see below)"
                requested.insert(tenant)
            default:
                break
            }
        }
        let active = tenants.filter { $0.state == .active }

        // 1. Backups, unless one was made recently: by this run before a crash, or by another
        // worker. The catalog is brought in line with the store first, since it is this host's
        // index and another host may have backed the tenant up.
        var toBackUp: [TenantID] = []
        let catalog = try installation.catalog()
        for record in active {
            if let reason = heldBy[record.id.rawValue] {
                summary.skipped.append(.init(tenant: record.id.rawValue, detail: reason))
                continue
            }
            if !options.force {
                do {
                    try catalog.sync(try installation.repository(for: record.id))
                } catch {
                    summary.failures.append("backup of \(record.id): \(error)")
                    continue
                }
                if let time = try catalog.snapshots(of: record.id).last.flatMap({ Timestamp.parse($0.time) }),
                   installation.now.timeIntervalSince(time) < NightlyRun.recentHours * 3600 {
                    summary.skipped.append(.init(tenant: record.id.rawValue, detail: "backed up at \(Timestamp.format(time))"))
                    continue
                }
            }
            toBackUp.append(record.id)
        }
        let backups = try BackupService(installation: installation, progress: progress).run(toBackUp)
        summary.backups += backups
        for result in backups where result.status != .succeeded {
            summary.failures.append("backup of \(result.tenant): \(result.error ?? result.summary?.errors.first ?? result.status.rawValue)")
        }
        let failed = backups.filter { $0.status == .failed }.map(\.tenant)
        if !failed.isEmpty {
            let detections = BackupFailures.detections(
                for: failed, in: try AuditTrail(installation).history().entries,
                nights: installation.configuration.backupFailureNights)
            summary.failures += Incidents(installation).detect(detections)
        }

        // 2. Retention and prune for active tenants.
        for record in active where heldBy[record.id.rawValue] == nil {
            do {
                let forget = try ForgetService(installation).forget(record.id, dryRun: false, record: record)
                summary.forgotten.append(.init(tenant: record.id.rawValue, detail: "\(Plural.count(forget.removed, "snapshot")) forgotten (\(forget.policy))"))
                let prune = try PruneService(installation).prune(record.id, maxUnusedPercent: nil, dryRun: false, record: record).result
                summary.pruned.append(.init(
                    tenant: record.id.rawValue,
                    detail: "\(Plural.count(prune.packsUnused + prune.packsUnindexed, "pack")) deleted, \(prune.packsRepacked) repacked, "
                        + "\(Plural.count(prune.bytesFreed, "byte")) freed"))
            } catch {
                summary.failures.append("retention of \(record.id): \(error)")
            }
        }

        // 3. A destruction request for each due tenant that has none (approvals only ever come
        // from the authorizers).
        let lifecycle = Lifecycle(installation)
        for record in tenants where lifecycle.isDue(record) && !requested.contains(record.id.rawValue) {
            do {
                let window = record.restoreWindowDays ?? installation.configuration.restoreWindowDays
                let end = lifecycle.windowEnd(record).map(Timestamp.format) ?? "?"
                let request = try DestructionRequests(installation).create(
                    tenant: record.id, reason: .retentionExpired,
                    note: "opened by the nightly run: restore window of \(Plural.count(window, "day")) ended \(end)",
                    requester: "lethe nightly (\(installation.actor))")
                summary.destructionRequestsOpened.append(.init(tenant: record.id.rawValue, detail: request.id))
            } catch {
                summary.failures.append("destruction request for \(record.id): \(error)")
            }
        }

        // 4. Verification: structure of every tenant, data of tonight's share of packs.
        let verification = try VerifyService(installation).verify(tenants.map(\.id), source: "nightly") { _, pack in
            Int(pack.firstByte) % rotation.nights == rotation.night
        }
        summary.verification += verification
        for result in verification where !result.isClean {
            if let error = result.error { summary.failures.append("verify \(result.tenant): \(error)") }
            summary.integrityViolations += result.report.errors.count
        }
    }
}
