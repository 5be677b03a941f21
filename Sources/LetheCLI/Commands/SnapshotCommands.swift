import Foundation
import LetheCore
import LetheRepository
import LetheStore

enum SnapshotCommands {
    static let specs = [snapshots, ls, restore]

    static let snapshots = CommandSpec(
        ["snapshots"],
        summary: "list snapshots of one tenant or of all",
        usage: "snapshots [TENANT] [--json]",
        options: [.json]
    ) { invocation in
        let names = try invocation.positionals(0...1, "")
        let installation = try invocation.installation()
        let tenant = try names.first.map(TenantID.init)
        if let tenant {
            try TenantRegistry(installation).refuseIfDestroyed(tenant)
            _ = try TenantRegistry(installation).record(tenant)
            try installation.catalog().sync(try installation.repository(for: tenant))
        }
        let rows = try installation.catalog().snapshots(of: tenant)
        if invocation.json {
            try invocation.console.json(rows)
            return .success
        }
        guard !rows.isEmpty else {
            invocation.console.print("No snapshots.")
            return .success
        }
        var table = [["ID", "TENANT", "TIME", "FILES", "SIZE", "HOST"]]
        for row in rows {
            table.append([String(row.id.prefix(8)), row.tenant, row.time, String(row.files), Format.bytes(row.bytes), row.host])
        }
        Format.table(table).forEach(invocation.console.print)
        return .success
    }

    static let ls = CommandSpec(
        ["ls"],
        summary: "list the files of a snapshot, from the catalog",
        usage: "ls SNAPSHOT [PATH] [--tenant TENANT] [--json]",
        details: """
            SNAPSHOT is a unique prefix of a snapshot id (at least 4 hex digits), or `latest` together with
            --tenant. PATH is a directory or file inside the snapshot.
            """,
        options: [OptionSpec("--tenant", value: "TENANT", "the tenant whose snapshot is meant"), .json]
    ) { invocation in
        let words = try invocation.positionals(1...2, "SNAPSHOT")
        let installation = try invocation.installation()
        let selector = SnapshotSelector(installation)
        let row: Catalog.SnapshotRow
        if let tenant = try invocation.arguments.value("--tenant").map(TenantID.init) {
            try TenantRegistry(installation).refuseIfDestroyed(tenant)
            row = try selector.select(words[0], tenant: tenant)
        } else {
            guard words[0] != "latest" else { throw invocation.usageError("`latest` needs --tenant") }
            row = try selector.select(anyTenant: words[0])
        }
        let listing = try Listing(installation).list(snapshot: row, path: words.count > 1 ? words[1] : nil)
        if invocation.json {
            try invocation.console.json(listing)
            return .success
        }
        let rows = listing.entries.map { entry in
            [Format.mode(entry.mode, kind: entry.kind), entry.kind == "file" ? Format.bytes(entry.size) : "-",
             Timestamp.format(Date(timeIntervalSince1970: TimeInterval(entry.mtime))),
             entry.name + (entry.kind == "directory" ? "/" : "") + (entry.target.map { " -> \($0)" } ?? "")]
        }
        Format.table(rows).forEach(invocation.console.print)
        return .success
    }

    static let restore = CommandSpec(
        ["restore"],
        summary: "restore a tenant's snapshot (or one path of it) into a directory",
        usage: "restore TENANT [SNAPSHOT|latest] --target DIR [--path SUBPATH] [--force] [--json]",
        details: """
            Restores contents byte for byte, permissions, modification times, symbolic links and empty
            directories (and ownership when run as root). Every blob is authenticated as it is read; a file
            appears under its name only once complete. A target that already has entries is refused unless
            --force is given, which replaces same-named files. Offboarded tenants restore inside their
            restore window (the returning-client path). Every restore is recorded in the audit log and fires
            the configured notification; if a notification fails, the command reports it and exits 1.
            """,
        options: [
            OptionSpec("--target", value: "DIR", "where to restore (created if missing)"),
            OptionSpec("--path", value: "SUBPATH", "restore only this file or directory of the snapshot"),
            OptionSpec("--force", "restore into a non-empty directory, replacing same-named files"),
            .json,
        ]
    ) { invocation in
        let words = try invocation.positionals(1...2, "TENANT")
        guard let target = invocation.arguments.value("--target") else { throw invocation.usageError("--target DIR is required") }
        let tenant = try TenantID(words[0])
        let installation = try invocation.installation()
        let result = try RestoreService(installation).restore(
            tenant: tenant, snapshot: words.count > 1 ? words[1] : nil,
            options: Restorer.Options(
                target: target, subpath: invocation.arguments.value("--path"),
                allowNonEmptyTarget: invocation.arguments.flag("--force")))
        let failures = result.notificationFailures
        if invocation.json {
            try invocation.console.json(result)
        } else {
            invocation.console.print(
                "Restored \(Plural.count(result.summary.files, "file")), \(Plural.count(result.summary.directories, "directory", "directories")), "
                    + "\(Plural.count(result.summary.symlinks, "link")) "
                    + "(\(Format.bytes(result.summary.bytes))) of \(tenant) snapshot \(result.snapshot.prefix(8)) "
                    + "(\(result.snapshotTime)) to \(result.target) in \(Format.seconds(result.durationSeconds))")
        }
        for failure in failures { invocation.console.error("lethe: \(failure) (recorded in the audit log)") }
        return failures.isEmpty ? .success : .failure
    }
}
