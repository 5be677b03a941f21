import LetheCore
import LetheRepository
import LetheStore

enum VerifyCommand {
    static let spec = CommandSpec(
        ["verify"],
        summary: "check tenants' repositories for modified, truncated, missing or swapped objects",
        usage: "verify [TENANT] [--read-data] [--json]",
        details: """
            By default checks structure: every index file and snapshot authenticates, every tree is readable
            and every blob it references is indexed, every pack exists with its indexed size and an authentic
            header. With --read-data, every blob of every pack is decrypted and its keyed id recomputed.
            Objects copied in from another tenant fail authentication and are reported by name.
            Exit code 3 when any integrity violation is found; 1 when a tenant could not be checked at all
            (locked by a running backup, key unavailable).
            """,
        options: [OptionSpec("--read-data", "decrypt and check every blob"), .json]
    ) { invocation in
        let words = try invocation.positionals(0...1, "")
        let installation = try invocation.installation()
        let tenants: [TenantID]
        if let name = words.first {
            let tenant = try TenantID(name)
            _ = try TenantRegistry(installation).record(tenant)
            tenants = [tenant]
        } else {
            tenants = try TenantRegistry(installation).everyTenant()
        }
        let readData = invocation.arguments.flag("--read-data")
        let results: [VerifyService.Result]
        if readData, invocation.console.progressEnabled, !invocation.json {
            // The line counts packs as they are picked to be read, with their sizes from the
            // catalog; a catalog that cannot say leaves the line without totals.
            let sizes = Dictionary(tenants.map { ($0, (try? installation.catalog().packSizes($0)) ?? [:]) }, uniquingKeysWith: { a, _ in a })
            let meter = ProgressMeter(console: invocation.console, verb: "verify", unit: "pack")
            meter.setTotals(bytes: sizes.values.reduce(0) { $0 + $1.values.reduce(0, +) }, files: sizes.values.reduce(0) { $0 + $1.count })
            defer { meter.finish() }
            results = try VerifyService(installation).verify(tenants) { tenant, pack in
                meter.advance(bytes: sizes[tenant]?[pack.hex] ?? 0, files: 1, detail: tenant.rawValue)
                return true
            }
        } else {
            results = try VerifyService(installation).verify(tenants) { _, _ in readData }
        }
        if invocation.json {
            try invocation.console.json(results)
        } else {
            for result in results {
                let r = result.report
                let status = !result.report.isClean ? "INTEGRITY VIOLATION" : result.error != nil ? "FAILED" : "ok"
                invocation.console.print(
                    "\(result.tenant)  \(status)  \(Plural.count(r.snapshots, "snapshot")), \(Plural.count(r.trees, "tree")), \(Plural.count(r.packs, "pack"))"
                        + (readData ? ", \(Plural.count(r.blobsRead, "blob")) read (\(Format.bytes(r.bytesRead)))" : ""))
                if let error = result.error { invocation.console.print("    \(error)") }
                for error in r.errors { invocation.console.print("    \(error)") }
                for note in r.notes { invocation.console.print("    note: \(note)") }
            }
        }
        let failed = results.filter { !$0.isClean }
        if !failed.isEmpty {
            let reasons = failed.prefix(3).map { "\($0.tenant) (\($0.report.errors.first ?? $0.error ?? "not checked"))" }
            invocation.console.error("lethe: \(failed.count) of \(Plural.count(results.count, "tenant")) did not verify: "
                + reasons.joined(separator: ", ") + (failed.count > 3 ? ", …" : ""))
        }
        // Exit 3 only for damage found; a tenant that could not be checked (busy, no key) is 1.
        if results.contains(where: { !$0.report.isClean }) { return .integrity }
        return results.allSatisfy(\.isClean) ? .success : .failure
    }
}
