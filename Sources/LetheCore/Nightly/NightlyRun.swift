import Foundation
import LetheRepository
import LetheStore

/// `lethe nightly`: the one command for cron or a systemd timer.
///
/// It backs up every active tenant (skipping those backed up in the last `recentHours`, so a
/// re-run after a crash finishes the night instead of doubling it); applies retention and
/// prunes; opens a destruction request for every due tenant that has none (approvals only ever
/// come from people); executes approved requests whose grace period is over (and resumes
/// interrupted ones); verifies every tenant's structure and reads the data of a rotating share
/// of packs, so every pack is read within `verifyRotationNights` nights; and reports. Every
/// step is safe to repeat.
///
/// Several workers (hosts sharing the store and the keys, each with its own home) share the
/// night: tenants fall into `shardCount` shards, and a worker does a shard's whole night only
/// while it holds that shard's `Lease`. A shard done tonight by any worker is skipped; a
/// worker that dies leaves its shard to be taken over when the lease expires. On one host,
/// `nightly.lock` keeps a second run of the same home from starting.
public struct NightlyRun: Sendable {
    let installation: Installation
    public static let recentHours: Double = 20
    /// Tenants fall into this many shards: the unit of work the workers share.
    public static let shardCount = 16

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

    /// A running incident as the nightly summary and the metrics show it.
    public struct OpenIncident: Codable, Sendable {
        public var id: String
        public var type: IncidentType
        public var status: IncidentStatus
        public var summary: String
        public var tenants: [String]
        public var detected: String
        public var deadline: String
        public var hoursLeft: Double
    }

    public struct TenantNote: Codable, Sendable {
        public var tenant: String
        public var detail: String
    }

    /// Tonight's share of the packs whose data verification reads: share `index` (from 1) of
    /// `of`, so that every pack is read once in `of` nights.
    public struct VerifyBucket: Codable, Sendable {
        public var index: Int
        public var of: Int
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
        /// Erasure purges approved by a DPO and run (or resumed) tonight.
        public var purgesExecuted: [TenantNote] = []
        public var verifyBucket = VerifyBucket(index: 0, of: 0)
        public var verification: [VerifyService.Result] = []
        public var failures: [String] = []
        public var integrityViolations = 0
        public var tenantsDue = 0
        /// Incidents running when the night ended, with the hours left on their Art. 33 clocks.
        public var openIncidents: [OpenIncident] = []

        public var exitStatus: Int32 { integrityViolations > 0 ? 3 : failures.isEmpty ? 0 : 1 }
    }

    /// The night's small outcomes (verified, pruned) wait for the run's own entry and are
    /// logged in the same append: one checkpoint for a night with nothing to back up, whatever
    /// the tenant count (a shard's backups are logged when they end, and destructions,
    /// approvals and purges each publish their own, which their reports embed). A shard is
    /// marked done for the other workers only once its outcomes are in the log: the shards
    /// this worker finished stay leased to it until then, or until it would wait for shards
    /// that others hold, when it logs what it has and lets its own go first.
    public func run(_ options: Options, backupProgress: (@Sendable (TenantID, BackupSummary) -> Void)? = nil) throws -> Summary {
        try installation.batchingAudit { try runBatched(options, backupProgress: backupProgress) }
    }

    private func runBatched(_ options: Options, backupProgress: (@Sendable (TenantID, BackupSummary) -> Void)?) throws -> Summary {
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
        let nights = installation.configuration.verifyRotationNights
        let night = Int(installation.now.timeIntervalSince1970 / 86_400) % nights
        summary.verifyBucket = VerifyBucket(index: night + 1, of: nights)
        let (shards, unreadable) = try NightlyShard.all(installation, count: NightlyRun.shardCount)
        summary.tenantsDue = try Lifecycle(installation).due().count

        // Each shard once, under its lease; shards other workers hold are retried until they
        // are done, or their holder's lease runs out and this worker takes them over.
        var pending = Array(shards.indices).sorted { shardOrder($0) < shardOrder($1) }
        let giveUp = Date().addingTimeInterval(TimeInterval(installation.configuration.leaseSeconds) + 60)
        // Shards worked tonight whose outcomes wait in the audit batch, still leased.
        var finished: [Lease] = []
        func settle() throws {
            guard !finished.isEmpty else { return }
            try AuditTrail(installation).flush()
            let done = Lease.Done(what: "nightly", at: installation.nowText, by: installation.worker)
            for lease in finished { lease.release(done: lease.isHeld ? done : nil) }
            finished = []
        }
        while !pending.isEmpty {
            var held: [Int: String] = [:]
            for shard in pending {
                switch try Lease.take(
                    "nightly/shard-\(shard)", store: installation.store, worker: installation.worker, clock: installation.clock,
                    duration: TimeInterval(installation.configuration.leaseSeconds)) {
                case .busy(let holder, let until):
                    held[shard] = "held by \(holder) until \(until)"
                case .taken(let lease, let previous):
                    if !options.force, let previous, previous.what == "nightly", let at = Timestamp.parse(previous.at),
                       installation.now.timeIntervalSince(at) < NightlyRun.recentHours * 3600 {
                        lease.release(done: previous)
                        for record in shards[shard].tenants {
                            summary.skipped.append(.init(tenant: record.id.rawValue, detail: "tonight's work was done at \(previous.at) by \(previous.by)"))
                        }
                        continue
                    }
                    try shards[shard].run(into: &summary, options: options, rotation: (night, nights), progress: backupProgress)
                    finished.append(lease)
                }
            }
            pending = Array(held.keys)
            guard !pending.isEmpty else { break }
            // Before waiting on others: they may be waiting on these.
            try settle()
            guard Date() < giveUp else {
                for (shard, holder) in held.sorted(by: { $0.key < $1.key }) {
                    summary.failures.append("shard \(shard) (\(Plural.count(shards[shard].tenants.count, "tenant"))) was not done: \(holder)")
                }
                break
            }
            usleep(500_000)
        }

        try executeDestructions(into: &summary)
        try executePurges(into: &summary)

        // Tenants whose record cannot be read belong to no shard; verification names what is wrong.
        if !unreadable.isEmpty {
            let results = try VerifyService(installation).verify(unreadable) { _, _ in false }
            summary.verification += results
            for result in results where !result.isClean {
                if let error = result.error { summary.failures.append("verify \(result.tenant): \(error)") }
                summary.integrityViolations += result.report.errors.count
            }
        }

        summary.finished = installation.nowText
        summary.durationSeconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
        try AuditTrail(installation).record("nightly", tenant: nil, details: [
            "backups": String(summary.backups.count), "skipped": String(summary.skipped.count),
            "failures": String(summary.failures.count), "integrityViolations": String(summary.integrityViolations),
            "destructionRequestsOpened": String(summary.destructionRequestsOpened.count),
            "destructionsExecuted": String(summary.destructionsExecuted.count),
            "purgesExecuted": String(summary.purgesExecuted.count),
        ])
        // That append took the batch: the shards' outcomes are logged.
        try settle()
        summary.openIncidents = try Incidents(installation).running().map { incident in
            OpenIncident(
                id: incident.id, type: incident.type, status: incident.status, summary: incident.summary, tenants: incident.tenants,
                detected: incident.detected, deadline: incident.deadline, hoursLeft: incident.hoursLeft(at: installation.now))
        }
        if let path = options.metricsFile ?? installation.configuration.metricsFile {
            try NightlyMetrics(installation: installation).write(summary, to: path)
        }
        return summary
    }

    /// Workers start at different shards, so that two starting together do not queue for the
    /// same leases.
    private func shardOrder(_ shard: Int) -> Int {
        let start = Int(installation.worker.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xffff }) % NightlyRun.shardCount
        return (shard - start + NightlyRun.shardCount) % NightlyRun.shardCount
    }

    /// Runs the erasure purges a DPO approved that no `erase.purge` entry has finished since
    /// (new ones, and ones a crash interrupted). A purge whose approvals no longer meet the
    /// policy is left for `lethe erase purge` to explain.
    private func executePurges(into summary: inout Summary) throws {
        var waiting: [String] = []
        for entry in try AuditTrail(installation).history().entries {
            guard let request = entry.details["request"] else { continue }
            if entry.operation == "erase.approve", !waiting.contains(request) { waiting.append(request) }
            if entry.operation == "erase.purge" { waiting.removeAll { $0 == request } }
        }
        for id in waiting {
            do {
                let result = try ErasurePurge(installation).purge(id)
                summary.purgesExecuted.append(TenantNote(
                    tenant: result.tenant, detail: "\(id): \(result.rewritten.count) snapshots rewritten"
                        + (result.passed ? "" : "; a verification check failed")))
                if !result.passed { summary.integrityViolations += 1 }
            } catch let error as LetheError where error.kind == .refused {
                continue
            } catch let error as KindedError where error.kind == .integrity {
                summary.failures.append("erasure purge \(id): \(error)")
                summary.integrityViolations += 1
            } catch {
                summary.failures.append("erasure purge \(id): \(error)")
            }
        }
    }

    /// Executes approved requests whose grace period has ended, and resumes interrupted ones
    /// (each under its lease, taken by the executor: two workers never run the same one).
    private func executeDestructions(into summary: inout Summary) throws {
        for listed in try DestructionRequests(installation).list() {
            let entry: DestructionRequests.Entry
            switch listed {
            case .damaged(let id, let tenant, let problem):
                summary.failures.append("destruction \(id)" + (tenant.map { " of \($0)" } ?? "") + ": \(problem)")
                summary.integrityViolations += 1
                summary.failures += Incidents(installation).detect(Incidents.tampering(in: [listed], source: "nightly"))
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
    }
}
