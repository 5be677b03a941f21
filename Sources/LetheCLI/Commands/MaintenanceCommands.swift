import LetheCore
import LetheStore

enum MaintenanceCommands {
    static let specs = [forget, prune]

    /// The tenants a maintenance verb applies to: the one named, or every active tenant.
    private static func tenants(_ invocation: Invocation, _ installation: Installation) throws -> [TenantID] {
        if invocation.arguments.flag("--all") {
            _ = try invocation.positionals(0...0, "")
            return try TenantRegistry(installation).list().filter { $0.state == .active }.map(\.id)
        }
        return [try TenantID(try invocation.positionals(1...1, "TENANT (or --all)")[0])]
    }

    static let forget = CommandSpec(
        ["forget"],
        summary: "apply the retention policy: remove snapshots it does not keep",
        usage: "forget TENANT | --all [--dry-run] [--json]",
        details: """
            Applies the tenant's retention policy (its own, or the configured default) to an active tenant's
            snapshots. --dry-run shows what would be removed and why the rest is kept. The data of forgotten
            snapshots is freed by `lethe prune`. Offboarded tenants keep every snapshot for their window.
            """,
        options: [OptionSpec("--all", "every active tenant"), OptionSpec("--dry-run", "show, do not remove"), .json]
    ) { invocation in
        let installation = try invocation.installation()
        let dryRun = invocation.arguments.flag("--dry-run")
        var results: [ForgetService.Result] = []
        for tenant in try tenants(invocation, installation) {
            results.append(try ForgetService(installation).forget(tenant, dryRun: dryRun))
        }
        if invocation.json {
            try invocation.console.json(results)
            return .success
        }
        for result in results {
            invocation.console.print("\(result.tenant): \(dryRun ? "would remove" : "removed") \(result.removed) of \(Plural.count(result.decisions.count, "snapshot")) (\(result.policy))")
            for decision in result.decisions {
                invocation.console.print("  \(decision.keep ? "keep  " : "remove") \(decision.snapshot.prefix(8))  \(decision.time)  \(decision.reasons.joined(separator: ", "))")
            }
        }
        return .success
    }

    static let prune = CommandSpec(
        ["prune"],
        summary: "delete data no snapshot references; repack partly used packs",
        usage: "prune TENANT | --all [--max-unused PCT] [--dry-run] [--json]",
        details: """
            Packs no snapshot needs are deleted; packs whose unused share exceeds PCT percent (default: the
            configured pruneMaxUnusedPercent, 10) are repacked; 0 repacks every pack with any unused byte.
            Safe to interrupt at any moment: new packs and a new index are written before anything is deleted.
            """,
        options: [
            OptionSpec("--all", "every active tenant"), OptionSpec("--max-unused", value: "PCT", "repack threshold, 0 to 100"),
            OptionSpec("--dry-run", "show, do not delete"), .json,
        ]
    ) { invocation in
        let installation = try invocation.installation()
        let threshold = try invocation.integer("--max-unused", range: 0...100)
        let dryRun = invocation.arguments.flag("--dry-run")
        var results: [PruneService.Result] = []
        for tenant in try tenants(invocation, installation) {
            results.append(try PruneService(installation).prune(tenant, maxUnusedPercent: threshold, dryRun: dryRun))
        }
        if invocation.json {
            try invocation.console.json(results)
            return .success
        }
        for entry in results {
            let r = entry.result
            invocation.console.print(
                "\(entry.tenant): \(Plural.count(r.packs, "pack")), \(r.packsUnused) unused, \(r.packsRepacked) to repack (\(Plural.count(r.blobsRepacked, "blob"))), "
                    + "\(r.packsUnindexed) unindexed; \(dryRun ? "would free" : "freed") \(Format.bytes(r.bytesFreed))")
        }
        return .success
    }
}
