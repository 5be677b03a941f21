import Foundation
import LetheCore
import LetheRepository
import LetheStore

enum TenantCommands {
    static let specs = [add, importing, list, show]

    static let add = CommandSpec(
        ["tenant", "add"],
        summary: "register a tenant, its sources, and create its own data key",
        usage: "tenant add ID --source SPEC [--source SPEC …] [--name NAME] [--json]",
        details: """
            ID is 1 to 64 characters of a-z, 0-9, '-', '_' and '.'. Each SPEC is one of
              dir:PATH       a directory tree; its entries become the snapshot's root
              sqlite:PATH    a SQLite database, copied consistently with SQLite's online backup API
              cmd:COMMAND    the standard output of `sh -c COMMAND` (pg_dump and the like); a
                             non-zero exit fails that tenant's backup
            and may be prefixed with NAME= to place it under NAME in the snapshot root.
            """,
        options: [
            OptionSpec("--source", value: "SPEC", repeatable: true, "where the tenant's data is (repeatable)"),
            OptionSpec("--name", value: "NAME", "the client's name, for listings and destruction reports"),
            .json,
        ]
    ) { invocation in
        _ = try invocation.positionals(1...1, "tenant ID")
        let id = try invocation.tenant(at: 0)
        let sources = try invocation.arguments.all("--source").map(TenantSource.init(spec:))
        let installation = try invocation.installation()
        let record = try TenantRegistry(installation).add(id: id, name: invocation.arguments.value("--name"), sources: sources)
        if invocation.json {
            try invocation.console.json(record)
        } else {
            invocation.console.print("Added tenant \(record.id) (\(record.name)) with its own data key; sources:")
            for source in record.sources { invocation.console.print("  \(source)") }
        }
        return .success
    }

    static let importing = CommandSpec(
        ["tenant", "import"],
        summary: "register many tenants from a JSON Lines file, all or nothing",
        usage: "tenant import FILE [--json]",
        details: """
            FILE (or - for standard input) holds one tenant per line:
              {"id": "acme", "name": "Acme GmbH", "sources": ["dir:/srv/acme", "db=sqlite:/srv/acme.db"]}
            with sources as for `tenant add --source` and the name optional. A line may carry a "register" object with
            the fields of `tenant register set` (dataCategories, subjectCategories, purposes, subProcessors as lists of
            strings, retentionBasis a string; docs/records.md). Every line is checked first
            (as `tenant add` checks one tenant); any problem imports nothing. The tenants' keys are created in
            one keystore write and their additions logged in one audit append. Run again after an interruption,
            it finishes: a tenant already registered exactly as its line says counts as imported.
            """,
        options: [.json]
    ) { invocation in
        let words = try invocation.positionals(1...1, "FILE")
        let file = words[0]
        let bytes: [UInt8]
        do {
            bytes = file == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : try FileSystem.readFile(file, limit: 256 << 20)
        } catch let error as SystemError {
            throw LetheError.usage("\(error)")
        }
        let installation = try invocation.installation()
        let importer = TenantImport(installation)
        let result = try importer.run(try TenantImport.parse(bytes, file: file), file: file)
        if invocation.json {
            try invocation.console.json(result)
        } else {
            invocation.console.print(
                "Imported \(Plural.count(result.imported.count, "tenant")), each with its own data key"
                    + (result.alreadyPresent.isEmpty ? "." : "; \(result.alreadyPresent.count) were already registered as the file says."))
        }
        return .success
    }

    static let list = CommandSpec(
        ["tenant", "list"],
        summary: "list tenants with their state, hold and latest snapshot",
        usage: "tenant list [--json]",
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let installation = try invocation.installation()
        let records = try TenantRegistry(installation).list()
        let latest = try installation.catalog().latestSnapshots().mapValues(\.time)
        if invocation.json {
            try invocation.console.json(records)
            return .success
        }
        guard !records.isEmpty else {
            invocation.console.print("No tenants yet (`lethe tenant add`).")
            return .success
        }
        var rows = [["TENANT", "NAME", "STATE", "HOLD", "LATEST SNAPSHOT"]]
        for record in records {
            rows.append([record.id.rawValue, record.name, record.state.rawValue, record.legalHold == nil ? "-" : "hold",
                         latest[record.id.rawValue] ?? "-"])
        }
        Format.table(rows).forEach(invocation.console.print)
        return .success
    }

    static let show = CommandSpec(
        ["tenant", "show"],
        summary: "show one tenant: sources, state, window, hold, retention, key id, register, history",
        usage: "tenant show ID [--json]",
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(1...1, "tenant ID")
        let id = try invocation.tenant(at: 0)
        let installation = try invocation.installation()
        let record = try TenantRegistry(installation).record(id)
        let key = try installation.keystore().keyInfo(for: id)
        let use = try installation.catalog().storageUse(id)
        let snapshots = try installation.catalog().snapshots(of: id)
        let lifecycle = Lifecycle(installation)
        let details = TenantDetails(
            record: record, dekID: key?.dekID, dekCommitment: key?.commitment, snapshots: snapshots.count,
            latestSnapshot: snapshots.last?.id, packs: use.packs, storedBytes: use.bytes,
            windowEnd: lifecycle.windowEnd(record).map(Timestamp.format),
            retention: record.retention ?? installation.configuration.retention,
            storageLocation: TenantRegister(installation).storageLocation)
        if invocation.json {
            try invocation.console.json(details)
            return .success
        }
        let c = invocation.console
        c.print("tenant        \(record.id)")
        c.print("name          \(record.name)")
        c.print("state         \(record.state.rawValue)" + (record.offboardedAt.map { " since \($0)" } ?? ""))
        if let end = details.windowEnd { c.print("window ends   \(end)") }
        c.print("legal hold    " + (record.legalHold.map { "\($0.reason) (since \($0.since), by \($0.by))" } ?? "none"))
        c.print("retention     \(details.retention.summary)" + (record.retention == nil ? " (default)" : ""))
        c.print("data key      \(key?.dekID ?? "none") (commitment \(key?.commitment.prefix(16) ?? "-")…)")
        c.print("snapshots     \(snapshots.count)" + (snapshots.last.map { ", latest \($0.id.prefix(8)) at \($0.time)" } ?? ""))
        c.print("stored        \(Format.bytes(use.bytes)) in \(Plural.count(use.packs, "pack"))")
        c.print("sources")
        for source in record.sources { c.print("  \(source)") }
        c.print("register")
        for line in RegisterCommands.lines(record.register, storageLocation: details.storageLocation) { c.print("  \(line)") }
        c.print("history")
        for event in record.events {
            c.print("  \(event.time)  \(event.event)" + (event.detail.map { ": \($0)" } ?? "") + "  (\(event.actor))")
        }
        return .success
    }

    struct TenantDetails: Encodable {
        let record: TenantRecord
        let dekID: String?
        let dekCommitment: String?
        let snapshots: Int
        let latestSnapshot: String?
        let packs: Int
        let storedBytes: Int
        let windowEnd: String?
        let retention: RetentionPolicy
        /// Where the data is, from the store's configuration (the register's storage location).
        let storageLocation: String
    }
}
