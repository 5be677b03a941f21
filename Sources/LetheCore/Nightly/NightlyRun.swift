import Foundation
import LetheRepository
import LetheStore

/// `lethe nightly`: the one command for cron or a systemd timer.
///
/// Under one host-wide lock it: backs up every active tenant (skipping those already backed up
/// in the last `recentHours`, so a re-run after a crash finishes the night instead of doubling
/// it); applies retention and prunes; opens a destruction request for every due tenant that
/// has none (approvals only ever come from people); executes approved requests whose grace
/// period is over (and resumes interrupted ones); verifies every tenant's structure and reads
/// the data of a rotating share of packs, so every pack is read within
/// `verifyRotationNights` nights; and reports. Every step is safe to repeat.
public struct NightlyRun: Sendable {
    let installation: Installation
    public static let recentHours: Double = 20

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Options: Sendable {
        /// Back up every active tenant, even those backed up recently.
        public var force = false
        /// Wait for a nightly run already in progress instead of refusing.
        public var wait = false
        public var metricsFile: String?

        public init(force: Bool = false, wait: Bool = false, metricsFile: String? = nil) {
            self.force = force
            self.wait = wait
            self.metricsFile = metricsFile
        }
    }

    public struct TenantNote: Codable, Sendable {
        public var tenant: String
        public var detail: String
    }

    public struct Summary: Codable, Sendable {
        public var started = ""
        public var finished = ""
        public var durationSeconds = 0.0
        public var backups: [TenantBackupResult] = []
        public var skipped: [TenantNote] = []
        public var forgotten: [TenantNote] = []
        public var pruned: [TenantNote] = []
        public var destructionRequestsOpened: [TenantNote] = []
        public var destructionsExecuted: [TenantNote] = []
        public var verifyBucket = ""
        public var verification: [VerifyService.Result] = []
        public var failures: [String] = []
        public var integrityViolations = 0
        public var tenantsDue = 0

        public var exitStatus: Int32 { integrityViolations > 0 ? 3 : failures.isEmpty ? 0 : 1 }
    }

    public func run(_ options: Options, backupProgress: (@Sendable (TenantID, BackupSummary) -> Void)? = nil) throws -> Summary {
        try FileSystem.makeDirectories(installation.home.locksDirectory)
        let lockPath = "\(installation.home.locksDirectory)/nightly.lock"
        let lock: FileLock
        if let free = try FileLock.tryAcquire(lockPath) {
            lock = free
        } else if options.wait {
            lock = try FileLock.acquire(lockPath)
        } else {
            throw LetheError.failed("another nightly run is in progress (it holds \(lockPath)); pass --wait to wait for it")
        }
        defer { withExtendedLifetime(lock) {} }

        let started = Date()
        var summary = Summary()
        summary.started = installation.nowText
        let registry = TenantRegistry(installation)
        let records = try registry.list()
        // Which tenants a destruction request holds (open, or damaged and so possibly open):
        // listed once, not once per tenant.
        var heldBy: [String: String] = [:]
        for listed in try DestructionRequests(installation).list() {
            switch listed {
            case .entry(let entry) where entry.status.isOpen:
                heldBy[entry.request.tenant] = "destruction request \(entry.id) is \(entry.status.rawValue)"
            case .damaged(let id, let tenant?, _):
                heldBy[tenant] = "destruction request \(id) is damaged (see below)"
            default:
                break
            }
        }

        // 1. Backups.
        let latest = Dictionary(try installation.catalog().snapshots(of: nil).map { ($0.tenant, $0.time) }, uniquingKeysWith: { _, b in b })
        var toBackUp: [TenantID] = []
        for record in records where record.state == .active {
            if let reason = heldBy[record.id.rawValue] {
                summary.skipped.append(TenantNote(tenant: record.id.rawValue, detail: reason))
                continue
            }
            if !options.force, let time = latest[record.id.rawValue].flatMap(Timestamp.parse),
               installation.now.timeIntervalSince(time) < NightlyRun.recentHours * 3600 {
                summary.skipped.append(TenantNote(tenant: record.id.rawValue, detail: "backed up at \(Timestamp.format(time))"))
                continue
            }
            toBackUp.append(record.id)
        }
        summary.backups = try BackupService(installation: installation, progress: backupProgress).run(toBackUp)
        for result in summary.backups where result.status != .succeeded {
            summary.failures.append("backup of \(result.tenant): \(result.error ?? result.summary?.errors.first ?? result.status.rawValue)")
        }

        // 2. Retention and prune for active tenants.
        for record in records where record.state == .active && heldBy[record.id.rawValue] == nil {
            do {
                let forget = try ForgetService(installation).forget(record.id, dryRun: false)
                summary.forgotten.append(TenantNote(tenant: record.id.rawValue, detail: "\(forget.removed) snapshots forgotten (\(forget.policy))"))
                let prune = try PruneService(installation).prune(record.id, maxUnusedPercent: nil, dryRun: false).result
                summary.pruned.append(TenantNote(
                    tenant: record.id.rawValue,
                    detail: "\(prune.packsUnused + prune.packsUnindexed) packs deleted, \(prune.packsRepacked) repacked, \(prune.bytesFreed) bytes freed"))
            } catch {
                summary.failures.append("retention of \(record.id): \(error)")
            }
        }

        // 3. Destruction requests for due tenants; execution of approved ones.
        let lifecycle = Lifecycle(installation)
        let due = try lifecycle.due()
        summary.tenantsDue = due.count
        for tenant in due where tenant.destructionRequest == nil {
            do {
                let request = try DestructionRequests(installation).create(
                    tenant: try TenantID(tenant.tenant), reason: .retentionExpired,
                    note: "opened by the nightly run: restore window of \(tenant.windowDays) days ended \(tenant.windowEnded)",
                    requester: "lethe nightly (\(installation.actor))")
                summary.destructionRequestsOpened.append(TenantNote(tenant: tenant.tenant, detail: request.id))
            } catch {
                summary.failures.append("destruction request for \(tenant.tenant): \(error)")
            }
        }
        for listed in try DestructionRequests(installation).list() {
            let entry: DestructionRequests.Entry
            switch listed {
            case .damaged(let id, let tenant, let problem):
                summary.failures.append("destruction \(id)" + (tenant.map { " of \($0)" } ?? "") + ": \(problem)")
                summary.integrityViolations += 1
                continue
            case .entry(let listedEntry):
                entry = listedEntry
            }
            switch entry.state.phase {
            case .approved(let approved):
                if let after = Timestamp.parse(approved.executableAfter), installation.now < after { continue }
            case .executing:
                break
            default:
                continue
            }
            do {
                let outcome = try DestructionExecutor(installation).execute(entry.id)
                summary.destructionsExecuted.append(TenantNote(tenant: entry.request.tenant, detail: "\(entry.id): report \(outcome.report.id)"))
            } catch let error as LetheError where error.kind == .integrity {
                summary.failures.append("destruction \(entry.id): \(error)")
                summary.integrityViolations += 1
            } catch {
                summary.failures.append("destruction \(entry.id): \(error)")
            }
        }

        // 4. Verification: structure of every tenant, data of tonight's share of packs.
        let nights = installation.configuration.verifyRotationNights
        let night = Int(installation.now.timeIntervalSince1970 / 86_400) % nights
        summary.verifyBucket = "\(night + 1) of \(nights)"
        let remaining = try registry.list().map(\.id)
        summary.verification = try VerifyService(installation).verify(remaining) { _, pack in Int(pack.firstByte) % nights == night }
        for result in summary.verification where !result.isClean {
            if result.error != nil { summary.failures.append("verify \(result.tenant): \(result.error!)") }
            summary.integrityViolations += result.report.errors.count
        }

        summary.finished = installation.nowText
        summary.durationSeconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
        try AuditTrail(installation).record("nightly", tenant: nil, details: [
            "backups": String(summary.backups.count), "skipped": String(summary.skipped.count),
            "failures": String(summary.failures.count), "integrityViolations": String(summary.integrityViolations),
            "destructionRequestsOpened": String(summary.destructionRequestsOpened.count),
            "destructionsExecuted": String(summary.destructionsExecuted.count),
        ])
        if let path = options.metricsFile ?? installation.configuration.metricsFile {
            try NightlyMetrics(installation: installation).write(summary, to: path)
        }
        return summary
    }
}
