import LetheCore
import LetheStore

enum ExportCommand {
    static let spec = CommandSpec(
        ["export"],
        summary: "write a tenant's snapshot as a POSIX pax tar archive (access and portability requests)",
        usage: "export TENANT [SNAPSHOT|latest] --output FILE.tar [--json]",
        details: """
            The archive (readable by GNU tar, bsdtar and every common tool) holds exactly what a restore would
            produce: contents, permissions, modification times, symbolic links, empty directories. It is
            created 0600 and appears under its name only when complete. Every export is recorded in the audit
            log (who, when, tenant, snapshot, bytes) and fires the configured notification; if a notification
            fails, the export stands but the command reports the failure and exits 1. The tenant's erasure
            ledger applies as it does to a restore (docs/erasure.md).
            """,
        options: [OptionSpec("--output", value: "FILE", "the archive to write"), .json]
    ) { invocation in
        let words = try invocation.positionals(1...2, "TENANT")
        guard let output = invocation.arguments.value("--output") else { throw invocation.usageError("--output FILE.tar is required") }
        let tenant = try TenantID(words[0])
        let installation = try invocation.installation()
        let result = try ExportService(installation).export(tenant: tenant, snapshot: words.count > 1 ? words[1] : nil, output: output)
        let failures = result.notificationFailures
        if invocation.json {
            try invocation.console.json(result)
        } else {
            invocation.console.print(
                "Exported \(Plural.count(result.summary.files, "file")) (\(Format.bytes(result.summary.bytes))) of \(tenant) snapshot "
                    + "\(result.snapshot.prefix(8)) to \(result.output) (\(Format.bytes(result.summary.archiveBytes)))")
            if let erasure = result.summary.erasure { invocation.console.print(Format.erasure(erasure)) }
        }
        for failure in failures { invocation.console.error("lethe: \(failure) (recorded in the audit log)") }
        return failures.isEmpty ? .success : .failure
    }

}
