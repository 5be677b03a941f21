import Foundation
import LetheCore
import LetheRepository
import LetheStore

/// `lethe erase`: one person's erasure inside a tenant's backups (docs/erasure.md).
enum EraseCommands {
    static let specs = [request, list, show, approve, purge, certificate]

    static let request = CommandSpec(
        ["erase", "request"],
        summary: "record one person's erasure: rules applied to every restore and export from now on",
        usage: "erase request TENANT --subject-ref REF --reason TEXT RULE…",
        details: """
            Each RULE is one of (give as many as needed, in the order they are to apply):
              --sql STMT [--param V]… [--file GLOB]   one DELETE or UPDATE, its ? bound to the --param values in
                                                     order (never spliced into the SQL), on the tenant's sqlite:
                                                     sources, or with --file on the SQLite files GLOB selects
              --path GLOB                            leave out every file, link or directory GLOB matches
              --csv GLOB --column C --value V        remove the rows of those CSV files whose column C is V
              --json GLOB --field F --value V        remove the records of those JSON arrays or JSON Lines files
                                                     whose field F is V
            Globs are relative to the snapshot's root: * ? [..] within a name, ** across directories
            (mail/alice@example.com/** is that folder and all it holds). The request, with the reference and
            the values, is sealed under the tenant's key in its repository; the audit log and every output
            carry only a keyed hash of the reference and the rules with their values redacted. There is no
            --json output here (--json is the JSON rule); `lethe erase show ID --json` prints the request.
            """,
        options: [
            OptionSpec("--subject-ref", value: "REF", "the controller's reference for the person (kept sealed)"),
            OptionSpec("--reason", value: "TEXT", "why (shown by erase show; do not name the person)"),
            OptionSpec("--sql", value: "STMT", repeatable: true, "a DELETE or UPDATE with ? placeholders"),
            OptionSpec("--param", value: "V", repeatable: true, "a value bound to the previous --sql's next ?"),
            OptionSpec("--file", value: "GLOB", repeatable: true, "the SQLite files inside directory sources the previous --sql applies to"),
            OptionSpec("--path", value: "GLOB", repeatable: true, "paths to leave out"),
            OptionSpec("--csv", value: "GLOB", repeatable: true, "CSV files to remove rows from"),
            OptionSpec("--json", value: "GLOB", repeatable: true, "JSON or JSON Lines files to remove records from"),
            OptionSpec("--column", value: "C", repeatable: true, "the previous --csv's column"),
            OptionSpec("--field", value: "F", repeatable: true, "the previous --json's field"),
            OptionSpec("--value", value: "V", repeatable: true, "the previous --csv's or --json's value"),
        ]
    ) { invocation in
        let tenant = try TenantID(try invocation.positionals(1...1, "TENANT")[0])
        guard let subject = invocation.arguments.value("--subject-ref") else { throw invocation.usageError("--subject-ref REF is required") }
        guard let reason = invocation.arguments.value("--reason") else { throw invocation.usageError("--reason TEXT is required") }
        let rules = try RuleParser.rules(invocation.arguments.ordered, invocation: invocation)
        let request = try ErasureLedgers(try invocation.installation()).request(
            tenant: tenant, subjectRef: subject, reason: reason, rules: rules)
        let c = invocation.console
        c.print("Erasure request \(request.id) for \(tenant), ledger version \(request.ledgerVersion)")
        c.print("  subject  hmac-sha256:\(request.subjectHash)")
        for (offset, rule) in request.rules.enumerated() { c.print("  rule \(offset + 1)   \(rule.redacted)") }
        c.print("Every restore and export of \(tenant) applies it from now on.")
        return .success
    }

    static let list = CommandSpec(
        ["erase", "list"],
        summary: "list a tenant's erasure requests (subject hashes and redacted rules only)",
        usage: "erase list TENANT [--subject-ref REF] [--json]",
        options: [OptionSpec("--subject-ref", value: "REF", "only the requests for this reference (matched by its keyed hash)"), .json]
    ) { invocation in
        let tenant = try TenantID(try invocation.positionals(1...1, "TENANT")[0])
        let installation = try invocation.installation()
        var requests = try ErasureLedgers(installation).requests(of: tenant)
        if let reference = invocation.arguments.value("--subject-ref") {
            let hash = try installation.repository(for: tenant).keys.subjectHash(reference)
            requests = requests.filter { $0.subjectHash == hash }
        }
        if invocation.json {
            try invocation.console.json(requests.map(\.redacted))
            return .success
        }
        guard !requests.isEmpty else {
            invocation.console.print("No erasure requests.")
            return .success
        }
        var table = [["ID", "REQUESTED", "BY", "RULES", "SUBJECT"]]
        for request in requests {
            table.append([request.id, request.requested, request.requester, String(request.rules.count), "hmac-sha256:\(request.subjectHash.prefix(16))…"])
        }
        Format.table(table).forEach(invocation.console.print)
        return .success
    }

    static let show = CommandSpec(
        ["erase", "show"],
        summary: "show one erasure request (subject hash and redacted rules only)",
        usage: "erase show ID [--raw | --json]",
        details: """
            --raw prints the purge document: the exact bytes a DPO signs to approve the purge of the request
            (`lethe erase approve`), canonical JSON with the subject hash and the redacted rules only.
            """,
        options: [OptionSpec("--raw", "write the request's purge document, the bytes a DPO signs"), .json]
    ) { invocation in
        let id = try invocation.positionals(1...1, "ID")[0]
        let installation = try invocation.installation()
        let full = try ErasureLedgers(installation).request(id)
        if invocation.arguments.flag("--raw") {
            invocation.console.raw(try ErasureApprovals(installation).document(for: full).1)
            return .success
        }
        let request = full.redacted
        if invocation.json {
            try invocation.console.json(request)
            return .success
        }
        let c = invocation.console
        c.print("request    \(request.id)")
        c.print("tenant     \(request.tenant)")
        c.print("subject    hmac-sha256:\(request.subjectHash)")
        c.print("reason     \(request.reason)")
        c.print("requested  \(request.requested) by \(request.requester)")
        c.print("ledger     version \(request.ledgerVersion)")
        for (offset, rule) in request.rules.enumerated() { c.print("rule \(offset + 1)     \(rule)") }
        return .success
    }
}

extension EraseCommands {
    static let approve = CommandSpec(
        ["erase", "approve"],
        summary: "add a DPO's Ed25519 signature over an erasure request's purge document",
        usage: "erase approve ID (--key PRIVATE.pem | --authorizer NAME --signature FILE)",
        details: """
            A purge removes the person from the stored snapshots for good, so it needs the approval of one
            DPO of the authorizer registry, over the exact bytes of `lethe erase show ID --raw`:
              openssl pkeyutl -sign -rawin -inkey ME.pem -in purge.json -out ME.sig
            Refused with exit 4, changing nothing: an unregistered or removed key, a signature over other
            bytes, the same authorizer twice. The approval is recorded in the audit log with its signature.
            """,
        options: [
            OptionSpec("--key", value: "FILE", "the authorizer's Ed25519 private key, PEM"),
            OptionSpec("--authorizer", value: "NAME", "who made --signature"),
            OptionSpec("--signature", value: "FILE", "raw Ed25519 signature (64 bytes) over the purge document"),
        ]
    ) { invocation in
        let id = try invocation.positionals(1...1, "ID")[0]
        let approvals = ErasureApprovals(try invocation.installation())
        let approvers: [Authorizer]
        if let keyFile = invocation.arguments.value("--key") {
            approvers = try approvals.approve(id, privateKey: try invocation.privateKey(keyFile))
        } else if let name = invocation.arguments.value("--authorizer"), let file = invocation.arguments.value("--signature") {
            approvers = try approvals.approve(id, authorizerName: name, signature: try invocation.signature(file))
        } else {
            throw invocation.usageError("give --key PRIVATE.pem, or --authorizer NAME with --signature FILE")
        }
        let last = approvers.last!
        invocation.console.print("\(last.name) (\(last.role.rawValue)) approved the purge of \(id).")
        if try approvals.isApproved(id) {
            invocation.console.print("Approved: `lethe erase purge \(id)`, or the nightly run, removes the person from the stored snapshots.")
        }
        return .success
    }

    static let purge = CommandSpec(
        ["erase", "purge"],
        summary: "remove an approved erasure request's person from every stored snapshot",
        usage: "erase purge ID [--json]",
        details: """
            Rewrites every snapshot the ledger (up to this request) changes, with the same time, paths and
            every other file; forgets the originals; repacks or deletes every pack that held a blob no
            snapshot references any more, whatever the prune threshold. Journaled in the audit log: a crash
            at any step leaves every snapshot restorable, and running it again completes the purge. Then
            checks that every remaining snapshot holds nothing the rules remove, that no index lists an
            erased blob, and that the ledger stays in force; exits 3 if a check fails. Needs a DPO's approval
            (`lethe erase approve`); exit 4 without it.
            """,
        options: [.json]
    ) { invocation in
        let id = try invocation.positionals(1...1, "ID")[0]
        let result = try ErasurePurge(try invocation.installation()).purge(id)
        if invocation.json {
            try invocation.console.json(result)
        } else {
            let c = invocation.console
            c.print("Purged \(result.request) from \(result.tenant): \(Plural.count(result.rewritten.count, "snapshot")) rewritten, "
                + "\(result.snapshotsUnaffected) unaffected; \(result.prune.packsRepacked) packs repacked, "
                + "\(result.prune.packsUnused) deleted (\(Format.bytes(result.prune.bytesFreed)) freed)")
            for (old, new) in result.rewritten.sorted(by: { $0.key < $1.key }) { c.print("  \(old.prefix(8)) -> \(new.prefix(8))") }
            for check in result.checks { c.print("  \(check.passed ? "passed" : "FAILED")  \(check.check): \(check.detail)") }
            c.print("Erasure certificate \(result.certificate): `lethe erase certificate \(result.request) --output DIR`")
        }
        return result.passed ? .success : .integrity
    }
}

extension EraseCommands {
    static let certificate = CommandSpec(
        ["erase", "certificate"],
        summary: "write a purge's signed erasure certificate (JSON, signature, printable HTML) for an auditor",
        usage: "erase certificate ID [--output DIR]",
        details: """
            Writes CERT.json (canonical JSON, signed), CERT.sig (raw Ed25519 signature by the service key),
            CERT.html, purge.json (the exact bytes the DPO signed), approval-NAME.sig and approval-NAME.pub.pem,
            audit-entry.json and checkpoint.txt, into DIR (default: the current directory). An auditor checks it
            with `lethe report verify --report CERT.json --signature CERT.sig --public-key KEY.pem --authorizer FP`
            or stock openssl (docs/auditors.md). The certificate carries the subject hash and the redacted rules
            only.
            """,
        options: [OptionSpec("--output", value: "DIR", "directory to write into (created if missing)")]
    ) { invocation in
        let id = try invocation.positionals(1...1, "ID")[0]
        let stored = try ErasureCertificates(try invocation.installation()).certificate(for: id)
        let directory = FileSystem.absolute(invocation.arguments.value("--output") ?? ".")
        try FileSystem.makeDirectories(directory, mode: 0o755)
        func write(_ name: String, _ bytes: [UInt8]) throws {
            try FileSystem.writeAtomically(bytes, to: "\(directory)/\(name)", mode: 0o644)
        }
        let certificate = stored.certificate
        try write("\(stored.id).json", stored.json)
        try write("\(stored.id).sig", stored.signature)
        try write("\(stored.id).html", Array(stored.html.utf8))
        guard let document = Data(base64Encoded: certificate.purgeDocument.bytes) else {
            throw LetheError.integrity("\(stored.id): the purge document is not base64")
        }
        try write("purge.json", Array(document))
        for approval in certificate.approvals {
            guard let signature = Data(base64Encoded: approval.signature), let key = certificate.approvalKeys[approval.authorizer] else { continue }
            try write("approval-\(approval.authorizer).sig", Array(signature))
            try write("approval-\(approval.authorizer).pub.pem", Array(key.utf8))
        }
        try write("audit-entry.json", Array(certificate.auditLog.entry.utf8))
        try write("checkpoint.txt", Array(certificate.auditLog.checkpoint.utf8))
        invocation.console.print("Wrote erasure certificate \(stored.id) of \(certificate.request.id) to \(directory)")
        return .success
    }
}

/// Reads erasure rules from the options in the order given: `--param` and `--file` belong
/// to the `--sql` before them, `--column`, `--field` and `--value` to the `--csv` or `--json`.
enum RuleParser {
    private enum Pending {
        case sql(String, [String], String?)
        case csv(String, String?, String?)
        case json(String, String?, String?)
    }

    static func rules(_ options: [(name: String, value: String)], invocation: Invocation) throws -> [ErasureRule] {
        var rules: [ErasureRule] = []
        var pending: Pending?
        func finish() throws {
            switch pending {
            case .sql(let statement, let parameters, let files):
                rules.append(.sql(statement: statement, parameters: parameters, files: files))
            case .csv(let files, let column, let value):
                guard let column, let value else { throw invocation.usageError("--csv \(files) needs --column C and --value V") }
                rules.append(.csvRows(files: files, column: column, value: value))
            case .json(let files, let field, let value):
                guard let field, let value else { throw invocation.usageError("--json \(files) needs --field F and --value V") }
                rules.append(.jsonRecords(files: files, field: field, value: value))
            case nil:
                break
            }
            pending = nil
        }
        for (name, value) in options {
            switch (name, pending) {
            case ("--sql", _):
                try finish()
                pending = .sql(value, [], nil)
            case ("--param", .sql(let statement, let parameters, let files)):
                pending = .sql(statement, parameters + [value], files)
            case ("--file", .sql(let statement, let parameters, nil)):
                pending = .sql(statement, parameters, value)
            case ("--path", _):
                try finish()
                rules.append(.path(glob: value))
            case ("--csv", _):
                try finish()
                pending = .csv(value, nil, nil)
            case ("--json", _):
                try finish()
                pending = .json(value, nil, nil)
            case ("--column", .csv(let files, nil, let given)):
                pending = .csv(files, value, given)
            case ("--field", .json(let files, nil, let given)):
                pending = .json(files, value, given)
            case ("--value", .csv(let files, let column, nil)):
                pending = .csv(files, column, value)
            case ("--value", .json(let files, let field, nil)):
                pending = .json(files, field, value)
            case ("--param", _), ("--file", _):
                throw invocation.usageError("\(name) belongs right after a --sql (once for --file)")
            case ("--column", _), ("--field", _), ("--value", _):
                throw invocation.usageError("\(name) belongs right after a --csv (--column) or --json (--field), once")
            default:
                continue
            }
        }
        try finish()
        return rules
    }
}
