import Foundation
import LetheCore
import LetheRepository
import LetheStore

enum BackupCommand {
    static let spec = CommandSpec(
        ["backup"],
        summary: "back up one tenant, or every active tenant, into its own encrypted repository",
        usage: "backup TENANT… | --all [--json]",
        details: """
            Each tenant gets a new snapshot. Files whose size, modification time, status-change time and
            inode are unchanged since the tenant's previous snapshot are not read again. A file whose size
            or times move while it is read is read again; if they move again, the snapshot keeps the second
            read with a warning naming the file, and the tenant's backup is partial. Tenants run two
            at a time; one tenant's failure does not stop the others. The exit code is 0 when every
            tenant succeeded and 1 when any failed or could not read some files (see the summary).
            JSON: {"tenants": [{"tenant", "status": "succeeded|partial|failed", "snapshot", "parent",
            "summary": {"filesNew", "filesChanged", "filesUnchanged", "bytesRead", "bytesAdded", …},
            "durationSeconds", "error"}], "failed": N}
            """,
        options: [OptionSpec("--all", "every active tenant"), .json]
    ) { invocation in
        let installation = try invocation.installation()
        let tenants: [TenantID]
        if invocation.arguments.flag("--all") {
            _ = try invocation.positionals(0...0, "")
            tenants = try TenantRegistry(installation).list().filter { $0.state == .active }.map(\.id)
        } else {
            let names = try invocation.positionals(1...Int.max, "TENANT (or --all)")
            tenants = try names.map(TenantID.init)
            // An unknown tenant (exit 2), or one policy refuses to back up — destroyed, offboarded,
            // held by a destruction request (exit 4) — is said before any work.
            for tenant in tenants {
                try Lifecycle(installation).requireBackupAllowed(try TenantRegistry(installation).record(tenant))
            }
        }
        let results = try run(tenants, installation: installation, console: invocation.console, json: invocation.json)
        if invocation.json {
            try invocation.console.json(Output(tenants: results, failed: results.filter { $0.status != .succeeded }.count))
        } else {
            print(results, console: invocation.console)
        }
        reportFailures(results, console: invocation.console)
        return results.allSatisfy { $0.status == .succeeded } ? .success : .failure
    }

    /// One line on standard error when anything failed, for cron mail and the journal.
    static func reportFailures(_ results: [TenantBackupResult], console: Console) {
        let failed = results.filter { $0.status != .succeeded }
        guard !failed.isEmpty else { return }
        let reasons = failed.prefix(3).map {
            "\($0.tenant) (\($0.error ?? $0.summary?.errors.first ?? $0.summary?.warnings.first ?? $0.status.rawValue))"
        }
        console.error("lethe: \(failed.count) of \(Plural.count(results.count, "tenant")) did not back up cleanly: "
            + reasons.joined(separator: ", ") + (failed.count > 3 ? ", …" : ""))
    }

    /// Runs the backups with a progress line on a terminal.
    static func run(_ tenants: [TenantID], installation: Installation, console: Console, json: Bool) throws -> [TenantBackupResult] {
        let sources = try tenants.flatMap { try TenantRegistry(installation).record($0).sources }
        let progress = BackupProgress(console: console, json: json, tenants: tenants.count, sources: sources)
        defer { progress.finish() }
        return try BackupService(installation: installation) { tenant, summary in
            progress.update(tenant, summary)
        }.run(tenants)
    }

    static func print(_ results: [TenantBackupResult], console: Console) {
        if results.isEmpty { console.print("No tenants to back up.") }
        for result in results {
            guard let summary = result.summary, let snapshot = result.snapshot else {
                console.print("\(result.tenant)  FAILED  \(result.error ?? "")")
                continue
            }
            console.print(
                "\(result.tenant)  \(result.status == .succeeded ? "ok" : "PARTIAL")  snapshot \(snapshot.prefix(8))  "
                    + "new \(summary.filesNew)  changed \(summary.filesChanged)  unchanged \(summary.filesUnchanged)  "
                    + "read \(Format.bytes(summary.bytesRead))  added \(Format.bytes(summary.bytesAdded))  "
                    + Format.seconds(result.durationSeconds))
            for error in summary.errors { console.print("    \(error)") }
            for warning in summary.warnings { console.print("    warning: \(warning)") }
        }
    }

    struct Output: Encodable {
        let tenants: [TenantBackupResult]
        let failed: Int
    }
}

/// The progress line of a backup run on a terminal: bytes and files gone through (read, or
/// found unchanged) out of what a scan of the sources beside the run found, the rate and the
/// ETA, and the tenant the line last heard from.
final class BackupProgress: @unchecked Sendable {
    private let meter: ProgressMeter
    private let tenants: Int
    private let lock = NSLock()
    private var latest: [TenantID: (bytes: Int, files: Int)] = [:]

    /// `sources` are the tenants' sources, scanned on a thread of their own for the totals;
    /// without them (the nightly run, which decides per tenant) the line has no ETA.
    init(console: Console, json: Bool, tenants: Int, sources: [TenantSource]? = nil) {
        meter = ProgressMeter(console: console, verb: "backup", json: json)
        self.tenants = tenants
        guard console.progressEnabled, !json, let sources else { return }
        let meter = self.meter
        Thread {
            if let totals = SourceScan.totals(of: sources) { meter.setTotals(bytes: totals.bytes, files: totals.files) }
        }.start()
    }

    func update(_ tenant: TenantID, _ summary: BackupSummary) {
        let (bytes, files, started) = lock.withLock {
            latest[tenant] = (summary.bytesTotal, summary.files)
            return (latest.values.reduce(0) { $0 + $1.bytes }, latest.values.reduce(0) { $0 + $1.files }, latest.count)
        }
        let of = tenants > 1 ? " (tenant \(started) of \(tenants))" : ""
        meter.set(bytes: bytes, files: files, detail: "\(tenant)\(of)")
    }

    func finish() { meter.finish() }
}
