import Foundation
import LetheCore
import LetheCrypto
import LetheStore

enum AuthorizerCommands {
    static let specs = [add, remove, policy, proposal, sign, discard, list]

    private static let changeDetails = """
        Changes to the registry are proposals: nothing takes effect until the authorizers sign the
        proposal's exact bytes (`lethe authorizer sign`). The first registry (version 1) needs the
        signature of everyone it lists; every later version needs signatures that meet the current
        policy from the current authorizers, plus the signature of each authorizer it adds. The service
        key alone can change nothing. Several changes may be gathered in one proposal until its first
        signature.
        """

    static let add = CommandSpec(
        ["authorizer", "add"],
        summary: "propose registering a person who may approve destructions, with their Ed25519 public key",
        usage: "authorizer add NAME --role dpo|officer --public-key FILE.pem [--json]",
        details: """
            The key is an Ed25519 public key in PEM, made on the authorizer's own machine:
              openssl genpkey -algorithm ed25519 -out me.pem
              openssl pkey -in me.pem -pubout -out me.pub.pem
            Only the public key is given to Lethe.

            """ + changeDetails,
        options: [
            OptionSpec("--role", value: "ROLE", "dpo or officer"), OptionSpec("--public-key", value: "FILE", "Ed25519 public key, PEM"), .json,
        ]
    ) { invocation in
        let name = try invocation.positionals(1...1, "NAME")[0]
        guard let roleText = invocation.arguments.value("--role"), let role = Authorizer.Role(rawValue: roleText) else {
            throw invocation.usageError("--role dpo|officer is required")
        }
        guard let file = invocation.arguments.value("--public-key") else { throw invocation.usageError("--public-key FILE.pem is required") }
        let pem = String(decoding: try FileSystem.readFile(file, limit: 64 << 10), as: UTF8.self)
        let proposal = try AuthorizerRegistry(try invocation.installation()).proposeAdd(name: name, role: role, publicKeyPEM: pem)
        try show(proposal, invocation)
        return .success
    }

    static let remove = CommandSpec(
        ["authorizer", "remove"],
        summary: "propose removing an authorizer (recorded, never erased: past approvals stay checkable)",
        usage: "authorizer remove NAME --reason TEXT [--json]",
        details: changeDetails,
        options: [OptionSpec("--reason", value: "TEXT", "why (recorded)"), .json]
    ) { invocation in
        let name = try invocation.positionals(1...1, "NAME")[0]
        guard let reason = invocation.arguments.value("--reason"), !reason.isEmpty else { throw invocation.usageError("--reason is required") }
        let proposal = try AuthorizerRegistry(try invocation.installation()).proposeRemove(name: name, reason: reason)
        try show(proposal, invocation)
        return .success
    }

    static let policy = CommandSpec(
        ["authorizer", "policy"],
        summary: "propose a new approval policy or grace period for destructions, or approval policy for erasure purges",
        usage: "authorizer policy [--required N] [--minimum-dpos N] [--grace-hours H] [--purge-required N] [--purge-minimum-dpos N] [--json]",
        details: "The default is two distinct authorizers, at least one a DPO, and a 24-hour grace period for destructions, "
            + "and one DPO for erasure purges.\n\n" + changeDetails,
        options: [
            OptionSpec("--required", value: "N", "distinct approvals a destruction needs"),
            OptionSpec("--minimum-dpos", value: "N", "of which at least this many by DPOs"),
            OptionSpec("--grace-hours", value: "H", "hours between approval and the earliest execution"),
            OptionSpec("--purge-required", value: "N", "distinct approvals an erasure purge needs"),
            OptionSpec("--purge-minimum-dpos", value: "N", "of which at least this many by DPOs"), .json,
        ]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let required = try invocation.integer("--required", range: 1...100)
        let dpos = try invocation.integer("--minimum-dpos", range: 0...100)
        let grace = try invocation.integer("--grace-hours", range: 0...100_000)
        let purgeRequired = try invocation.integer("--purge-required", range: 1...100)
        let purgeDPOs = try invocation.integer("--purge-minimum-dpos", range: 0...100)
        guard required != nil || dpos != nil || grace != nil || purgeRequired != nil || purgeDPOs != nil else {
            throw invocation.usageError("give --required, --minimum-dpos, --grace-hours, --purge-required and/or --purge-minimum-dpos")
        }
        let proposal = try AuthorizerRegistry(try invocation.installation()).proposePolicy(
            required: required, minimumDPOs: dpos, gracePeriodHours: grace, purgeRequired: purgeRequired, purgeMinimumDPOs: purgeDPOs)
        try show(proposal, invocation)
        return .success
    }

    static let proposal = CommandSpec(
        ["authorizer", "proposal"],
        summary: "show the open registry proposal; --raw prints the exact bytes to sign",
        usage: "authorizer proposal [--raw | --json]",
        options: [OptionSpec("--raw", "write the proposal's exact bytes to standard output"), .json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        guard let proposal = try AuthorizerRegistry(try invocation.installation()).proposal() else {
            throw LetheError.usage("there is no open registry proposal (`lethe authorizer add`, `remove` or `policy` makes one)")
        }
        if invocation.arguments.flag("--raw") {
            invocation.console.raw(proposal.bytes)
            return .success
        }
        try show(proposal, invocation)
        return .success
    }

    static let sign = CommandSpec(
        ["authorizer", "sign"],
        summary: "add an authorizer's Ed25519 signature to the open registry proposal",
        usage: "authorizer sign (--key PRIVATE.pem | --authorizer NAME --signature FILE) [--json]",
        details: """
            --key signs with Lethe (the key is read, used and wiped; it never leaves this process).
            --authorizer with --signature accepts a raw 64-byte Ed25519 signature made elsewhere with
              lethe authorizer proposal --raw > proposal.json
              openssl pkeyutl -sign -rawin -inkey ME.pem -in proposal.json -out ME.sig
            The signature that completes what the proposal needs makes it the registry in force.
            """,
        options: [
            OptionSpec("--key", value: "FILE", "the authorizer's Ed25519 private key, PEM"),
            OptionSpec("--authorizer", value: "NAME", "who made --signature"),
            OptionSpec("--signature", value: "FILE", "raw Ed25519 signature (64 bytes) over the proposal bytes"), .json,
        ]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let registry = AuthorizerRegistry(try invocation.installation())
        let outcome: AuthorizerRegistry.SignOutcome
        if let keyFile = invocation.arguments.value("--key") {
            outcome = try registry.sign(privateKey: try invocation.privateKey(keyFile))
        } else if let name = invocation.arguments.value("--authorizer"), let file = invocation.arguments.value("--signature") {
            outcome = try registry.sign(authorizerName: name, signature: try invocation.signature(file))
        } else {
            throw invocation.usageError("give --key PRIVATE.pem, or --authorizer NAME with --signature FILE")
        }
        switch outcome {
        case .collected(let proposal):
            try show(proposal, invocation)
        case .applied(let document, let sha256):
            if invocation.json {
                try invocation.console.json(Registry(document: document, sha256: sha256, genesis: nil))
            } else {
                invocation.console.print("Registry version \(document.version) is in force (SHA-256 \(sha256)).")
                if document.version == 1 {
                    invocation.console.print("This is the first version: give its SHA-256 to your auditors to pin, with the authorizers' key fingerprints.")
                }
            }
        }
        return .success
    }

    static let discard = CommandSpec(
        ["authorizer", "discard"],
        summary: "drop the open registry proposal; nothing changes",
        usage: "authorizer discard --reason TEXT",
        options: [OptionSpec("--reason", value: "TEXT", "why (recorded)")]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        guard let reason = invocation.arguments.value("--reason"), !reason.isEmpty else { throw invocation.usageError("--reason is required") }
        try AuthorizerRegistry(try invocation.installation()).discard(reason: reason)
        invocation.console.print("Discarded the open registry proposal.")
        return .success
    }

    static let list = CommandSpec(
        ["authorizer", "list"],
        summary: "list the authorizers of the registry in force, including removed ones",
        usage: "authorizer list [--fingerprints | --json]",
        details: """
            Shows the registry's version and SHA-256, the SHA-256 of version 1 (what auditors pin), the policy and
            grace period. --fingerprints prints only the key fingerprint of every authorizer ever registered, one
            per line: the file an auditor keeps, obtained from the DPO out of band, for `report verify --authorizers`.
            """,
        options: [OptionSpec("--fingerprints", "print only the authorizers' key fingerprints"), .json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let chain = try AuthorizerRegistry(try invocation.installation()).chain()
        if invocation.arguments.flag("--fingerprints") {
            for authorizer in chain.current?.authorizers ?? [] { invocation.console.print(authorizer.fingerprint) }
            return .success
        }
        guard let current = chain.current, let sha256 = chain.digests.last else {
            if invocation.json {
                try invocation.console.json(Registry(document: nil, sha256: nil, genesis: nil))
            } else {
                invocation.console.print("No authorizers (`lethe authorizer add`, then each signs with `lethe authorizer sign`).")
            }
            return .success
        }
        if invocation.json {
            try invocation.console.json(Registry(document: current, sha256: sha256, genesis: chain.digests.first))
            return .success
        }
        let c = invocation.console
        c.print("registry version \(current.version), SHA-256 \(sha256)")
        c.print("version 1        SHA-256 \(chain.digests[0])")
        c.print("policy           \(current.policy.summary); grace period \(current.gracePeriodHours) h")
        c.print("purge policy     \(current.effectivePurgePolicy.summary)")
        var rows = [["NAME", "ROLE", "KEY FINGERPRINT", "ADDED", "STATUS"]]
        for a in current.authorizers {
            rows.append([a.name, a.role.rawValue, a.fingerprint, a.added, a.removed.map { "removed \($0): \(a.removalReason ?? "")" } ?? "active"])
        }
        Format.table(rows).forEach(c.print)
        return .success
    }

    /// A registry version, for --json: the one in force, or all null before version 1 takes effect.
    struct Registry: Encodable {
        let document: RegistryDocument?
        let sha256: String?
        let genesis: String?
    }

    /// A proposal, for --json.
    struct ProposalOutput: Encodable {
        let document: RegistryDocument
        let sha256: String
        let signatures: [RegistrySignature]
        let shortfall: String?
    }

    private static func show(_ proposal: AuthorizerRegistry.Proposal, _ invocation: Invocation) throws {
        if invocation.json {
            try invocation.console.json(ProposalOutput(
                document: proposal.document, sha256: proposal.sha256, signatures: proposal.envelope.signatures, shortfall: proposal.shortfall))
            return
        }
        let c = invocation.console
        let document = proposal.document
        c.print("Proposal for registry version \(document.version) (SHA-256 \(proposal.sha256)):")
        for change in document.changes { c.print("  \(change)") }
        c.print("  policy: \(document.policy.summary); grace period \(document.gracePeriodHours) h; purges \(document.effectivePurgePolicy.summary)")
        for signature in proposal.envelope.signatures { c.print("  signed by \(signature.authorizer) at \(signature.time)") }
        c.print("Still needed: \(proposal.shortfall ?? "nothing")")
        c.print("Sign with: lethe authorizer sign --key ME.pem")
        c.print("      or:  lethe authorizer proposal --raw > proposal.json && openssl pkeyutl -sign -rawin -inkey ME.pem -in proposal.json -out ME.sig")
        c.print("           lethe authorizer sign --authorizer NAME --signature ME.sig")
    }
}
