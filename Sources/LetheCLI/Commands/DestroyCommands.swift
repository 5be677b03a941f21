import Foundation
import LetheCore
import LetheCrypto
import LetheStore

enum DestroyCommands {
    static let specs = [request, show, approve, cancel, execute, list]

    static let request = CommandSpec(
        ["destroy", "request"],
        summary: "ask for a tenant's destruction: a canonical request with an inventory, to be signed",
        usage: "destroy request TENANT --reason retention-expired|client-request|contract-end [--note TEXT] [--json]",
        details: """
            Refused (exit 4) for a tenant on legal hold, and for one still inside its restore window (or
            active) unless the reason is client-request or contract-end. The request is canonical JSON —
            tenant, reason, requester, time, approval policy, grace period, the key to be revoked (id and
            commitment), and an inventory of every object (key, size, SHA-256) with a digest over it. Its
            exact bytes are what authorizers sign: `lethe destroy show REQ --raw > request.json`.
            While a request is open the tenant is not backed up, pruned or changed.
            """,
        options: [OptionSpec("--reason", value: "REASON", "retention-expired, client-request or contract-end"),
                  OptionSpec("--note", value: "TEXT", "free text carried into the report"), .json]
    ) { invocation in
        let tenant = try TenantID(try invocation.positionals(1...1, "TENANT")[0])
        guard let reasonText = invocation.arguments.value("--reason"), let reason = DestructionReason(rawValue: reasonText) else {
            throw invocation.usageError("--reason must be one of \(DestructionReason.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let installation = try invocation.installation()
        let entry = try DestructionRequests(installation).create(tenant: tenant, reason: reason, note: invocation.arguments.value("--note"))
        if invocation.json {
            try invocation.console.json(entry.request)
        } else {
            let c = invocation.console
            c.print("Destruction request \(entry.id) for \(tenant) (\(reason.rawValue))")
            c.print("  inventory  \(Plural.count(entry.request.inventory.objectCount, "object")), \(Format.bytes(entry.request.inventory.bytes)), digest \(entry.request.inventory.digest)")
            c.print("  needs      \(entry.request.policy.summary); then a grace period of \(entry.request.gracePeriodHours) h")
            c.print("Authorizers sign its exact bytes:")
            c.print("  lethe destroy show \(entry.id) --raw > \(entry.id).json")
            c.print("  openssl pkeyutl -sign -rawin -inkey ME.pem -in \(entry.id).json -out ME.sig")
            c.print("  lethe destroy approve \(entry.id) --authorizer NAME --signature ME.sig")
            c.print("or, with the key at hand: lethe destroy approve \(entry.id) --key ME.pem")
        }
        return .success
    }

    static let show = CommandSpec(
        ["destroy", "show"],
        summary: "show a destruction request and its state; --raw prints the exact bytes to sign",
        usage: "destroy show REQ [--raw | --json]",
        options: [OptionSpec("--raw", "write the request's exact bytes to standard output"), .json]
    ) { invocation in
        let id = try invocation.positionals(1...1, "REQ")[0]
        let requests = DestructionRequests(try invocation.installation())
        // The raw bytes are what authorizers sign: shown as stored, before any check.
        let entry = invocation.arguments.flag("--raw") ? try requests.load(id) : try requests.authenticated(id)
        if invocation.arguments.flag("--raw") {
            invocation.console.raw(entry.bytes)
            return .success
        }
        if invocation.json {
            try invocation.console.json(Detail(request: entry.request, state: entry.state))
            return .success
        }
        let c = invocation.console
        let r = entry.request
        c.print("request      \(r.id)  (\(entry.status.rawValue))")
        c.print("tenant       \(r.tenant) (\(r.tenantName))")
        c.print("reason       \(r.reason.rawValue)" + (r.note.map { " — \($0)" } ?? ""))
        c.print("requested    \(r.requested) by \(r.requester)")
        c.print("policy       \(r.policy.summary); grace \(r.gracePeriodHours) h; judged by authorizer registry version \(r.registry.version)")
        c.print("key          \(r.dekID) (commitment \(r.dekCommitment.prefix(16))…)")
        c.print("inventory    \(Plural.count(r.inventory.objectCount, "object")), \(Format.bytes(r.inventory.bytes)), digest \(r.inventory.digest)")
        c.print("request hash SHA-256 \(Hex.encode(try SHA256.hash(entry.bytes)))")
        for approval in entry.state.approvals {
            c.print("approved     \(approval.time) by \(approval.authorizer) (\(approval.role.rawValue), \(approval.keyFingerprint))")
        }
        switch entry.state.phase {
        case .approved(let approved):
            c.print("executable   after \(approved.executableAfter)")
        case .cancelled(let cancellation):
            c.print("cancelled    \(cancellation.at) by \(cancellation.by): \(cancellation.reason)")
        case .executing(let execution), .completed(let execution, _):
            c.print("started      \(execution.started)")
            for step in execution.steps { c.print("step         \(step.finished)  \(step.step.rawValue)") }
        case .pending:
            break
        }
        if let report = entry.state.report { c.print("report       \(report)") }
        return .success
    }

    static let approve = CommandSpec(
        ["destroy", "approve"],
        summary: "add an authorizer's Ed25519 signature over the request's exact bytes",
        usage: "destroy approve REQ (--key PRIVATE.pem | --authorizer NAME --signature FILE) [--json]",
        details: """
            --key signs with Lethe (the key is read, used and wiped; it never leaves this process).
            --authorizer with --signature accepts a raw 64-byte Ed25519 signature made elsewhere with
              openssl pkeyutl -sign -rawin -inkey ME.pem -in REQUEST.json -out ME.sig
            Refused with exit 4, changing nothing: an unregistered or removed key, a signature over other
            bytes, the same authorizer twice, or a tenant whose objects changed since the request.
            When the policy is met the request is approved and its grace period starts.
            """,
        options: [
            OptionSpec("--key", value: "FILE", "the authorizer's Ed25519 private key, PEM"),
            OptionSpec("--authorizer", value: "NAME", "who made --signature"),
            OptionSpec("--signature", value: "FILE", "raw Ed25519 signature (64 bytes) over the request bytes"), .json,
        ]
    ) { invocation in
        let id = try invocation.positionals(1...1, "REQ")[0]
        let installation = try invocation.installation()
        let requests = DestructionRequests(installation)
        let entry: DestructionRequests.Entry
        if let keyFile = invocation.arguments.value("--key") {
            entry = try requests.approve(id, privateKey: try invocation.privateKey(keyFile))
        } else if let name = invocation.arguments.value("--authorizer"), let file = invocation.arguments.value("--signature") {
            entry = try requests.approve(id, authorizerName: name, signature: try invocation.signature(file))
        } else {
            throw invocation.usageError("give --key PRIVATE.pem, or --authorizer NAME with --signature FILE")
        }
        let approval = entry.state.approvals.last!
        if invocation.json {
            try invocation.console.json(Detail(request: entry.request, state: entry.state))
        } else {
            invocation.console.print("\(approval.authorizer) (\(approval.role.rawValue)) approved \(id).")
            if case .approved(let approved) = entry.state.phase {
                invocation.console.print("The policy is met: executable after \(approved.executableAfter) (cancellable until then).")
            } else {
                invocation.console.print("Still needed: \(entry.request.policy.summary); \(entry.state.approvals.count) so far.")
            }
        }
        return .success
    }

    static let cancel = CommandSpec(
        ["destroy", "cancel"],
        summary: "cancel a request before execution starts",
        usage: "destroy cancel REQ --reason TEXT [--json]",
        options: [OptionSpec("--reason", value: "TEXT", "why (recorded)"), .json]
    ) { invocation in
        let id = try invocation.positionals(1...1, "REQ")[0]
        guard let reason = invocation.arguments.value("--reason"), !reason.isEmpty else { throw invocation.usageError("--reason is required") }
        let installation = try invocation.installation()
        guard let entry = try DestructionRequests(installation).cancel(id, reason: reason) else {
            // A request the audit log never recorded: removed, and the removal logged.
            if invocation.json {
                try invocation.console.json(["request": id, "removed": "never recorded in the audit log"])
            } else {
                invocation.console.print("Removed \(id): the audit log never recorded it (an interrupted request, or one written by hand).")
            }
            return .success
        }
        if invocation.json {
            try invocation.console.json(Detail(request: entry.request, state: entry.state))
        } else {
            invocation.console.print("Cancelled \(id); nothing was touched. A cancelled request stays cancelled.")
        }
        return .success
    }

    static let execute = CommandSpec(
        ["destroy", "execute"],
        summary: "execute an approved request after its grace period: revoke, delete, verify, report",
        usage: "destroy execute REQ [--json]",
        details: """
            Journaled steps: block the tenant; revoke its key with the KEK ratchet; delete every object; purge
            its catalog rows; clear caches; verify (nothing under the prefix, no keystore entry, previous KEK
            epoch gone, a kept ciphertext sample no longer decrypts, no catalog rows, no caches); sign and store
            the report. Killed at any step, running it again resumes there; after success it changes nothing.
            Refused (exit 4) during the grace period, without approvals, or if the tenant changed.
            """,
        options: [.json]
    ) { invocation in
        let id = try invocation.positionals(1...1, "REQ")[0]
        let outcome = try DestructionExecutor(try invocation.installation()).execute(id)
        if invocation.json {
            // The exact signed bytes, as `report show --json` prints them.
            invocation.console.raw(outcome.report.json)
            return .success
        }
        let report = outcome.report.report
        let c = invocation.console
        c.print(outcome.performed ? "Destroyed tenant \(report.tenant.id) (\(report.tenant.name))." : "Already destroyed; nothing changed.")
        c.print("  inventory  \(Plural.count(report.inventory.objectCount, "object")), \(Format.bytes(report.inventory.bytes))")
        c.print("  key        \(report.keyEvidence.dekID) revoked; KEK epoch \(report.keyEvidence.kekEpochBefore) → \(report.keyEvidence.kekEpochAfter)")
        for check in report.verification { c.print("  \(check.passed ? "passed" : "FAILED")  \(check.check)") }
        c.print("Report \(report.reportID) (audit entry \(report.auditLog.leafIndex)): `lethe report show \(report.reportID)`")
        return .success
    }

    static let list = CommandSpec(
        ["destroy", "list"],
        summary: "list destruction requests and their state",
        usage: "destroy list [--json]",
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let installation = try invocation.installation()
        let listed = try DestructionRequests(installation).list()
        for failure in Incidents(installation).detect(Incidents.tampering(in: listed, source: "destroy list")) {
            invocation.console.error("lethe: \(failure)")
        }
        if invocation.json {
            try invocation.console.json(listed.map(Listing.init))
            return listed.allSatisfy(\.isReadable) ? .success : .integrity
        }
        guard !listed.isEmpty else {
            invocation.console.print("No destruction requests.")
            return .success
        }
        var rows = [["REQUEST", "TENANT", "REASON", "STATUS", "APPROVALS", "REQUESTED", "REPORT"]]
        var damaged: [String] = []
        for item in listed {
            switch item {
            case .entry(let e):
                rows.append([e.id, e.request.tenant, e.request.reason.rawValue, e.status.rawValue,
                             "\(e.state.approvals.count)/\(e.request.policy.required)", e.request.requested, e.state.report ?? "-"])
            case .damaged(let id, let tenant, let problem):
                rows.append([id, tenant ?? "?", "-", "DAMAGED", "-", "-", "-"])
                damaged.append("\(id): \(problem)")
            }
        }
        Format.table(rows).forEach(invocation.console.print)
        for line in damaged { invocation.console.error("lethe: \(line)") }
        return damaged.isEmpty ? .success : .integrity
    }

    /// One row of `destroy list --json`: the request and its state, or what is wrong with it.
    struct Listing: Encodable {
        let id: String
        let request: DestructionRequest?
        let state: DestructionState?
        let problem: String?

        init(_ listed: DestructionRequests.Listed) {
            switch listed {
            case .entry(let entry): (id, request, state, problem) = (entry.id, entry.request, entry.state, nil)
            case .damaged(let id, _, let error): (self.id, request, state, problem) = (id, nil, nil, error.message)
            }
        }
    }

    struct Detail: Encodable {
        let request: DestructionRequest
        let state: DestructionState
    }
}
