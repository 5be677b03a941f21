import Foundation
import LetheCore
import LetheStore

enum AuditCommands {
    static let specs = [log, verify, prove, consistency]

    static let consistency = CommandSpec(
        ["audit", "consistency"],
        summary: "print the RFC 9162 proof that the log of size NEW extends the log of size OLD",
        usage: "audit consistency OLD NEW [--json]",
        details: """
            OLD and NEW are tree sizes (entry counts), 1 ≤ OLD ≤ NEW ≤ the log's size, for instance the sizes of
            two checkpoints an auditor holds (one inside a destruction report, one newer). Prints both roots and
            the proof, and checks it: a log that dropped or changed any of the first OLD entries cannot produce
            one. Go's golang.org/x/mod/sumdb/tlog.CheckTree verifies the same proof.
            """,
        options: [.json]
    ) { invocation in
        let words = try invocation.positionals(2...2, "OLD NEW")
        guard let old = Int(words[0]), let new = Int(words[1]) else { throw invocation.usageError("OLD and NEW are tree sizes (whole numbers)") }
        let history = try AuditTrail(try invocation.installation()).history()
        let proof = try history.consistencyProof(from: old, to: new)
        let oldRoot = try history.root(ofFirst: old)
        let newRoot = try history.root(ofFirst: new)
        let valid = try MerkleTree.verifyConsistency(oldSize: old, newSize: new, oldRoot: oldRoot, newRoot: newRoot, proof: proof)
        let output = ConsistencyOutput(
            oldSize: old, newSize: new, oldRoot: Data(oldRoot).base64EncodedString(), newRoot: Data(newRoot).base64EncodedString(),
            proof: proof.map { Data($0).base64EncodedString() }, checkpoint: history.checkpoint?.text, verified: valid)
        if invocation.json {
            try invocation.console.json(output)
        } else {
            let c = invocation.console
            c.print("old tree     size \(old), root \(output.oldRoot)")
            c.print("new tree     size \(new), root \(output.newRoot)")
            c.print("proof        " + (output.proof.isEmpty ? "(empty: the same tree)" : output.proof.joined(separator: "\n             ")))
            c.print(valid ? "The proof verifies: the log of size \(new) extends the log of size \(old)." : "The proof does NOT verify.")
        }
        return valid ? .success : .integrity
    }

    struct ConsistencyOutput: Encodable {
        let oldSize: Int
        let newSize: Int
        let oldRoot: String
        let newRoot: String
        let proof: [String]
        /// The newest checkpoint, which signs the log's current root.
        let checkpoint: String?
        let verified: Bool
    }

    static let log = CommandSpec(
        ["audit", "log"],
        summary: "show the audit log: every operation, who, when, on which tenant",
        usage: "audit log [--tenant TENANT] [--json]",
        options: [OptionSpec("--tenant", value: "TENANT", "only this tenant's entries"), .json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let installation = try invocation.installation()
        var entries = try AuditTrail(installation).history().entries
        if let name = invocation.arguments.value("--tenant") {
            let tenant = try TenantID(name)
            entries = entries.filter { $0.tenant == tenant.rawValue }
            let catalog = try installation.catalog()
            if entries.isEmpty, try catalog.tenant(tenant) == nil, try catalog.tombstone(tenant) == nil {
                throw LetheError.usage("unknown tenant \(tenant): the audit log has no entry for it (see `lethe tenant list`)")
            }
        }
        if invocation.json {
            try invocation.console.json(entries)
            return .success
        }
        for e in entries {
            let details = e.details.keys.sorted().map { "\($0)=\(e.details[$0]!)" }.joined(separator: " ")
            invocation.console.print("\(e.index)  \(e.time)  \(e.actor)  \(e.operation)" + (e.tenant.map { "  \($0)" } ?? "") + (details.isEmpty ? "" : "  \(details)"))
        }
        return .success
    }

    static let verify = CommandSpec(
        ["audit", "verify"],
        summary: "recompute the Merkle tree and check every signed checkpoint",
        usage: "audit verify [--json]",
        details: """
            Recomputes the RFC 9162 Merkle tree from every entry and checks each checkpoint's signature (C2SP
            signed note, Ed25519, the service key) and root, the entries' numbering, the newest checkpoint
            against the one this host anchored in its key directory, and the checkpoint inside every
            destruction report and erasure certificate (each of which must still be in the store as logged).
            Editing, deleting, reordering or cutting off entries is detected. Exit code 3 if not intact, and an
            integrity incident is opened (or updated) when the log can still take it.
            """,
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let installation = try invocation.installation()
        let reports = ReportStore(store: installation.store)
        var external: [ExternalCheckpoint] = []
        var unreadable: [String] = []
        for id in try reports.ids() {
            do {
                external.append(ExternalCheckpoint(source: "report \(id)", text: try reports.load(id).report.auditLog.checkpoint))
            } catch {
                unreadable.append("report \(id): \(error)")
            }
        }
        let certificates = ErasureCertificates(installation)
        for id in try certificates.ids() {
            do {
                external.append(ExternalCheckpoint(source: "erasure certificate \(id)", text: try certificates.checkpoint(of: id)))
            } catch {
                unreadable.append("erasure certificate \(id): \(error)")
            }
        }
        var result = try AuditTrail(installation).log.verify(publicKey: try installation.signingKey().publicKey, external: external)
        result.problems += unreadable
        if result.isClean {
            let history = try AuditTrail(installation).history()
            result.problems += reports.problems(against: history) + certificates.problems(against: history)
        }
        if !result.isClean {
            // Tampering with the log, the reports or the certificates: an integrity incident.
            // When the log itself is what was damaged, it cannot take the entry; that is said,
            // and the exit is 3 anyway.
            let failures = Incidents(installation).detect([Incidents.Detection(
                type: .integrity, key: "tamper/audit-log", summary: "audit verify: the audit log or a report's checkpoint is not intact",
                source: "audit-verify", tenants: [], objects: result.problems)])
            result.notes += failures
        }
        if invocation.json {
            try invocation.console.json(result)
        } else {
            invocation.console.print(
                "\(Plural.count(result.entries, "entry", "entries")), \(Plural.count(result.checkpoints, "checkpoint")), "
                    + "\(Plural.count(result.externalCheckpoints, "report checkpoint")): "
                    + (result.isClean ? "intact" : "NOT INTACT"))
            for problem in result.problems { invocation.console.print("  \(problem)") }
            for note in result.notes { invocation.console.print("  note: \(note)") }
        }
        return result.isClean ? .success : .integrity
    }

    static let prove = CommandSpec(
        ["audit", "prove"],
        summary: "print the inclusion proof of a report's (or an entry's) audit-log entry",
        usage: "audit prove REPORT | --index N [--json]",
        options: [OptionSpec("--index", value: "N", "an entry number instead of a report"), .json]
    ) { invocation in
        let words = try invocation.positionals(0...1, "")
        let installation = try invocation.installation()
        let index: Int
        if let report = words.first {
            index = try ReportStore(store: installation.store).load(report).report.auditLog.leafIndex
        } else if let given = try invocation.integer("--index") {
            index = given
        } else {
            throw invocation.usageError("give REPORT or --index N")
        }
        let publicKey = try installation.signingKey().publicKey
        let history = try AuditTrail(installation).history()
        guard index >= 0, index < history.size else { throw invocation.usageError("the audit log has \(Plural.count(history.size, "entry", "entries")); there is no entry \(index)") }
        let proof = try history.prove(index: index)
        let entry = history.bytes[index]
        let valid = try AuditLog.verify(proof, entry: entry, publicKey: publicKey)
        if invocation.json {
            try invocation.console.json(proof)
        } else {
            invocation.console.print("entry        \(index): \(String(decoding: entry, as: UTF8.self))")
            invocation.console.print("leaf hash    \(proof.leafHash)")
            invocation.console.print("tree size    \(proof.treeSize)")
            invocation.console.print("audit path   " + (proof.path.isEmpty ? "(empty: a one-entry tree)" : proof.path.joined(separator: "\n             ")))
            invocation.console.print("checkpoint\n\(proof.checkpoint)")
            invocation.console.print(valid ? "The proof verifies against the signed checkpoint." : "The proof does NOT verify.")
        }
        return valid ? .success : .integrity
    }
}
