import LetheCore

enum IndexCommand {
    static let spec = CommandSpec(
        ["index", "rebuild"],
        summary: "recreate the SQLite catalog from the object store alone",
        usage: "index rebuild [--json]",
        details: """
            The catalog is an index of the store, never the truth. This rebuilds it from the tenants'
            records, snapshots, index files and trees, and from destruction reports (so destroyed tenants
            stay refused). The new catalog replaces the old one only when complete.
            """,
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let installation = try invocation.installation()
        let result = try IndexRebuild(installation).run()
        if invocation.json {
            try invocation.console.json(result)
        } else {
            invocation.console.print("Catalog rebuilt: \(Plural.count(result.tenants, "tenant")), \(Plural.count(result.snapshots, "snapshot")), "
                + Plural.count(result.tombstones, "destroyed tenant"))
            for problem in result.problems { invocation.console.print("  problem: \(problem)") }
        }
        return result.problems.isEmpty ? .success : .failure
    }
}
