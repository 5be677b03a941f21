import Foundation
import LetheCore
import LetheCrypto
import LetheKeys
import LetheStore

enum ReportCommands {
    static let specs = [list, show, verify, render, export]

    static let list = CommandSpec(
        ["report", "list"],
        summary: "list destruction reports (from the catalog; the reports themselves live in the store)",
        usage: "report list [--json]",
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let installation = try invocation.installation()
        let store = ReportStore(store: installation.store)
        let listed = try installation.catalog().reports()
        if invocation.json {
            try invocation.console.json(listed)
            return .success
        }
        let reports = try listed.map { try store.load($0.id).report }
        guard !reports.isEmpty else {
            invocation.console.print("No destruction reports.")
            return .success
        }
        var rows = [["REPORT", "TENANT", "NAME", "REASON", "FINISHED", "OBJECTS"]]
        for r in reports {
            rows.append([r.reportID, r.tenant.id, r.tenant.name, r.reason.rawValue, r.finished, String(r.inventory.objectCount)])
        }
        Format.table(rows).forEach(invocation.console.print)
        return .success
    }

    static let show = CommandSpec(
        ["report", "show"],
        summary: "show a destruction report (--json prints the exact signed bytes)",
        usage: "report show REPORT [--json]",
        options: [.json]
    ) { invocation in
        let id = try invocation.positionals(1...1, "REPORT")[0]
        let installation = try invocation.installation()
        let stored = try ReportStore(store: installation.store).load(id, knownTo: try installation.catalog())
        if invocation.json {
            invocation.console.raw(stored.json)
            return .success
        }
        let r = stored.report
        let c = invocation.console
        c.print("report        \(r.reportID)")
        c.print("tenant        \(r.tenant.id) (\(r.tenant.name))")
        c.print("reason        \(r.reason.rawValue): \(r.legalBasis)")
        c.print("request       \(r.request.id) by \(r.request.requester) at \(r.request.requested)")
        for a in r.approvals { c.print("approval      \(a.authorizer) (\(a.role.rawValue), \(a.keyFingerprint)) at \(a.time)") }
        c.print("key           \(r.keyEvidence.dekID), commitment \(r.keyEvidence.dekCommitment)")
        c.print("KEK epochs    \(r.keyEvidence.kekEpochBefore) → \(r.keyEvidence.kekEpochAfter)")
        c.print("inventory     \(Plural.count(r.inventory.objectCount, "object")), \(Plural.count(r.inventory.bytes, "byte")), digest \(r.inventory.digest)")
        c.print("store         \(r.storage.location) (versioning \(r.storage.versioning.rawValue)): "
            + "\(Plural.count(r.storage.versionsDeleted, "version")) and \(Plural.count(r.storage.deleteMarkersDeleted, "delete marker")) deleted")
        for check in r.verification { c.print("check         \(check.passed ? "passed" : "FAILED")  \(check.check): \(check.detail)") }
        c.print("times         \(r.started) → \(r.finished)")
        c.print("software      \(r.software.name) \(r.software.version) on \(r.software.host)")
        c.print("signer        \(r.signer.keyFingerprint)")
        c.print("audit log     entry \(r.auditLog.leafIndex) of \(r.auditLog.treeSize), inclusion proof of \(Plural.count(r.auditLog.inclusionProof.count, "hash", "hashes"))")
        c.print("outside reach \(r.outsideReach)")
        return .success
    }

    static let verify = CommandSpec(
        ["report", "verify"],
        summary: "verify a report: its signature, the request it answers, its approvals, its audit-log inclusion",
        usage: "report verify REPORT [TRUST] | --report FILE.json --signature FILE.sig --public-key FILE.pem TRUST [--json]",
        details: """
            Checks the report's signature; that its tenant, inventory, key, policy and registry version are the
            ones in the request bytes the authorizers signed; the authorizer registry chain it carries, from
            version 1; each approval (a key you trust, with the role the registry gives it, signing those exact
            bytes); the approval policy; the inclusion proof against the signed checkpoint; the inventory digest.
            What checks it must come from outside the report, obtained out of band:
              --public-key FILE.pem      the service's public key
              TRUST: --authorizer FINGERPRINT (repeatable) or --authorizers FILE (one SHA256:… per line, as
                     `lethe authorizer list` prints them), and/or --registry-genesis SHA256 (of version 1)
            With REPORT and no TRUST, this host's own service key and anchored registry are used: a check by
            the operator, not an independent one. Exit code 3 if anything does not verify. docs/auditors.md
            gives the same checks with openssl.
            """,
        options: [
            OptionSpec("--report", value: "FILE", "report JSON"), OptionSpec("--signature", value: "FILE", "its .sig"),
            OptionSpec("--public-key", value: "FILE", "the service's public key, PEM"),
            OptionSpec("--authorizer", value: "FINGERPRINT", repeatable: true, "an authorizer key you trust (SHA256:…)"),
            OptionSpec("--authorizers", value: "FILE", "a file of trusted authorizer key fingerprints"),
            OptionSpec("--registry-genesis", value: "SHA256", "the SHA-256 of authorizer registry version 1 you pinned"), .json,
        ]
    ) { invocation in
        let words = try invocation.positionals(0...1, "")
        let json: [UInt8]
        let signature: [UInt8]
        let named: String
        var trust = try trustGiven(invocation)
        if let id = words.first {
            let installation = try invocation.installation()
            let stored = try ReportStore(store: installation.store).load(id, knownTo: try installation.catalog())
            (json, signature, named) = (stored.json, stored.signature, "report \(id)")
            if trust == nil {
                let chain = try AuthorizerRegistry(installation).chain()
                trust = ReportVerifier.Trust(
                    serviceKey: try installation.signingKey().publicKey,
                    authorizers: Set(chain.documents.flatMap(\.authorizers).map(\.fingerprint)), registryGenesis: chain.digests.first)
            }
        } else {
            guard let report = invocation.arguments.value("--report"), let sig = invocation.arguments.value("--signature") else {
                throw invocation.usageError("give REPORT, or --report, --signature, --public-key and what you trust")
            }
            guard trust != nil else { throw untrusted(invocation) }
            json = try FileSystem.readFile(report, limit: 256 << 20)
            signature = try FileSystem.readFile(sig, limit: 4096)
            named = report
        }
        guard let trust else { throw untrusted(invocation) }
        let result = ReportVerifier.verify(json: json, signature: signature, trust: trust)
        if invocation.json {
            try invocation.console.json(result)
        } else {
            for check in result.checks { invocation.console.print("\(check.passed ? "ok    " : "FAILED") \(check.check): \(check.detail)") }
            invocation.console.print(result.isValid ? "Report verified." : "Report does NOT verify.")
        }
        if !result.isValid {
            let failed = result.checks.filter { !$0.passed }.map(\.check)
            invocation.console.error("lethe: \(named) does not verify: \(failed.joined(separator: ", ")) failed")
        }
        return result.isValid ? .success : .integrity
    }

    private static func untrusted(_ invocation: Invocation) -> UsageError {
        invocation.usageError(
            "an independent check needs the service's public key (--public-key) and the authorizers' key fingerprints "
                + "(--authorizer, --authorizers) or the SHA-256 of registry version 1 (--registry-genesis), obtained out of "
                + "band: a report cannot vouch for the keys that check it")
    }

    /// The trust an auditor passed on the command line, or nil if none. A public key without
    /// any authorizer trust, or the reverse, is a usage error.
    private static func trustGiven(_ invocation: Invocation) throws -> ReportVerifier.Trust? {
        var fingerprints = invocation.arguments.all("--authorizer")
        if let file = invocation.arguments.value("--authorizers") {
            let text = String(decoding: try FileSystem.readFile(file, limit: 1 << 20), as: UTF8.self)
            let listed = text.split(whereSeparator: \.isWhitespace).map(String.init).filter { $0.hasPrefix("SHA256:") }
            guard !listed.isEmpty else {
                throw invocation.usageError("\(file) lists no authorizer fingerprint (SHA256: and 64 hex digits, one per line)")
            }
            fingerprints += listed
        }
        for fingerprint in fingerprints where !(fingerprint.hasPrefix("SHA256:") && Hex.decode(fingerprint.dropFirst(7))?.count == 32) {
            throw invocation.usageError("\(fingerprint) is not a key fingerprint (SHA256: and 64 hex digits)")
        }
        let genesis = invocation.arguments.value("--registry-genesis")
        if let genesis, Hex.decode(genesis)?.count != 32 { throw invocation.usageError("--registry-genesis takes 64 hex digits") }
        let keyFile = invocation.arguments.value("--public-key")
        let pinsAuthorizers = !fingerprints.isEmpty || genesis != nil
        guard keyFile != nil || pinsAuthorizers else { return nil }
        guard let keyFile, pinsAuthorizers else {
            throw invocation.usageError(
                "give both the service's public key (--public-key) and the authorizers you trust (--authorizer, --authorizers or --registry-genesis)")
        }
        return ReportVerifier.Trust(
            serviceKey: try loadPublicKey(keyFile), authorizers: fingerprints.isEmpty ? nil : Set(fingerprints), registryGenesis: genesis?.lowercased())
    }

    private static func loadPublicKey(_ path: String) throws -> Ed25519.PublicKey {
        do {
            return try Ed25519.PublicKey(pemRepresentation: String(decoding: try FileSystem.readFile(path, limit: 64 << 10), as: UTF8.self))
        } catch let error as CryptoError {
            throw UsageError(message: "\(path): \(error)", command: "lethe report verify")
        }
    }

    static let render = CommandSpec(
        ["report", "render"],
        summary: "write a report's printable, self-contained HTML rendering",
        usage: "report render REPORT [--output FILE.html]",
        options: [OptionSpec("--output", value: "FILE", "write here instead of standard output")]
    ) { invocation in
        let id = try invocation.positionals(1...1, "REPORT")[0]
        let installation = try invocation.installation()
        let store = ReportStore(store: installation.store)
        let html = try store.verifiedRendering(
            try store.load(id, knownTo: try installation.catalog()), publicKey: try installation.signingKey().publicKey)
        if let output = invocation.arguments.value("--output") {
            try FileSystem.writeAtomically(Array(html.utf8), to: FileSystem.absolute(output), mode: 0o644)
            invocation.console.print("Wrote \(output)")
        } else {
            invocation.console.raw(Array(html.utf8))
        }
        return .success
    }

    static let export = CommandSpec(
        ["report", "export"],
        summary: "write a report and its evidence as separate files for an auditor (see docs/auditors.md)",
        usage: "report export REPORT --output DIR",
        details: """
            Writes REPORT.json, REPORT.sig, REPORT.html, request.json (the exact bytes the authorizers signed),
            approval-NAME.sig and approval-NAME.pub.pem for each approval, audit-entry.json (the logged entry),
            checkpoint.txt (the signed checkpoint), inventory.txt (the lines the inventory digest is the SHA-256
            of) and registry-vN.json (each registry version's signed document). Every file is a copy of a value
            inside the signed report, so the auditor can check each one with stock openssl. The service's public
            key is deliberately not among them: the auditor must hold it already, from the operator, out of band.
            """,
        options: [OptionSpec("--output", value: "DIR", "directory to write into (created if missing)")]
    ) { invocation in
        let id = try invocation.positionals(1...1, "REPORT")[0]
        guard let output = invocation.arguments.value("--output") else { throw invocation.usageError("--output DIR is required") }
        let installation = try invocation.installation()
        let store = ReportStore(store: installation.store)
        let stored = try store.load(id, knownTo: try installation.catalog())
        // Rendered from the signed JSON, after checking it: never the stored page, which nothing signs.
        let html = try store.verifiedRendering(stored, publicKey: try installation.signingKey().publicKey)
        let report = stored.report
        let directory = FileSystem.absolute(output)
        try FileSystem.makeDirectories(directory, mode: 0o755)
        func write(_ name: String, _ bytes: [UInt8]) throws {
            try FileSystem.writeAtomically(bytes, to: "\(directory)/\(name)", mode: 0o644)
        }
        try write("\(id).json", stored.json)
        try write("\(id).sig", stored.signature)
        try write("\(id).html", Array(html.utf8))
        guard let request = Data(base64Encoded: report.request.bytes) else { throw LetheError.integrity("\(id): request bytes are not base64") }
        try write("request.json", Array(request))
        for approval in report.approvals {
            guard let signature = Data(base64Encoded: approval.signature), let key = report.approvalKeys[approval.authorizer] else { continue }
            try write("approval-\(approval.authorizer).sig", Array(signature))
            try write("approval-\(approval.authorizer).pub.pem", Array(key.utf8))
        }
        try write("audit-entry.json", Array(report.auditLog.entry.utf8))
        try write("checkpoint.txt", Array(report.auditLog.checkpoint.utf8))
        try write("inventory.txt", Array(Inventory.digestInput(report.inventory.objects).utf8))
        for (offset, envelope) in report.registry.chain.enumerated() {
            guard let document = envelope.documentBytes else { continue }
            try write("registry-v\(offset + 1).json", document)
        }
        invocation.console.print("Wrote the report and its evidence to \(directory)")
        return .success
    }
}
