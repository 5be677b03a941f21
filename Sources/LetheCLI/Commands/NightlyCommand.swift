import LetheCore

enum NightlyCommand {
    static let spec = CommandSpec(
        ["nightly"],
        summary: "the nightly run: backups, retention, prune, destruction requests, sampled verification",
        usage: "nightly [--json] [--wait] [--force] [--metrics FILE]",
        details: """
            One command for cron or a systemd timer, safe to run again after a crash:
              1. backs up every active tenant (skipping those backed up in the last 20 hours; --force backs up all);
              2. applies retention (`forget`) and `prune` to active tenants;
              3. opens a destruction request (reason retention-expired) for every due tenant without one —
                 approvals only ever come from authorizers — and executes approved requests whose grace
                 period has ended, resuming any that were interrupted;
              4. verifies every tenant's structure and reads the data of a rotating share of packs, so
                 every pack is read within verifyRotationNights nights (30 by default);
              5. prints a summary, records it in the audit log, and writes node_exporter textfile metrics to
                 --metrics FILE (or metricsFile in lethe.json) if given.
            Only one nightly run at a time: a second refuses (exit 1), or waits with --wait.
            Exit code 3 if an integrity violation was found, 1 if anything else failed, 0 otherwise.
            """,
        options: [
            OptionSpec("--wait", "wait for a nightly run in progress instead of refusing"),
            OptionSpec("--force", "back up every active tenant, even if backed up recently"),
            OptionSpec("--metrics", value: "FILE", "write node_exporter textfile metrics here"), .json,
        ]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let installation = try invocation.installation()
        let progress = BackupProgress(console: invocation.console, json: invocation.json, tenants: 0)
        let summary = try NightlyRun(installation).run(
            NightlyRun.Options(
                force: invocation.arguments.flag("--force"), wait: invocation.arguments.flag("--wait"),
                metricsFile: invocation.arguments.value("--metrics")),
            backupProgress: { tenant, backup in progress.update(tenant, backup) })
        progress.finish()
        if invocation.json {
            try invocation.console.json(summary)
        } else {
            let c = invocation.console
            c.print("Nightly run \(summary.started) → \(summary.finished) (\(Format.seconds(summary.durationSeconds)))")
            // One count per outcome, so that a failed backup is never counted as backed up.
            let partial = summary.backups.filter { $0.status == .partial }.count
            let failed = summary.backups.filter { $0.status == .failed }.count
            c.print("backups: \(Plural.count(summary.backups.count - partial - failed, "tenant")) backed up"
                + (partial > 0 ? ", \(partial) partial" : "") + (failed > 0 ? ", \(failed) failed" : "") + ", \(summary.skipped.count) skipped")
            if !summary.backups.isEmpty { BackupCommand.print(summary.backups, console: c) }
            for note in summary.skipped { c.print("  \(note.tenant)  skipped: \(note.detail)") }
            for note in summary.forgotten { c.print("retention \(note.tenant): \(note.detail)") }
            for note in summary.pruned { c.print("prune \(note.tenant): \(note.detail)") }
            c.print("due tenants: \(summary.tenantsDue)")
            for note in summary.destructionRequestsOpened { c.print("destruction request opened for \(note.tenant): \(note.detail) (awaits approvals)") }
            for note in summary.destructionsExecuted { c.print("destroyed \(note.tenant): \(note.detail)") }
            let read = summary.verification.reduce(0) { $0 + $1.report.packsRead }
            c.print("verification (night \(summary.verifyBucket.index) of \(summary.verifyBucket.of)): \(Plural.count(summary.verification.count, "tenant")), \(Plural.count(read, "pack")) read, "
                + Plural.count(summary.integrityViolations, "integrity violation"))
            for result in summary.verification { for error in result.report.errors { c.print("  \(result.tenant): \(error)") } }
            for failure in summary.failures { c.print("FAILED: \(failure)") }
        }
        if !summary.failures.isEmpty {
            invocation.console.error("lethe: the nightly run had \(Plural.count(summary.failures.count, "failure")): "
                + summary.failures.prefix(3).joined(separator: "; ") + (summary.failures.count > 3 ? "; …" : ""))
        }
        return ExitCode(rawValue: summary.exitStatus) ?? .failure
    }
}
