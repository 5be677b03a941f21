import Foundation
import LetheCore
import LetheCrypto
import LetheStore

/// The controller's processing log: `audit extract` writes one tenant's entries with their
/// proofs; `audit verify-extract` checks such a folder offline (docs/records.md,
/// docs/auditors.md).
enum AuditExtractCommands {
    static let specs = [extract, verifyExtract]

    static let extract = CommandSpec(
        ["audit", "extract"],
        summary: "write a tenant's own audit entries with inclusion proofs, for its controller",
        usage: "audit extract TENANT --output DIR [--from DATE] [--to DATE] [--json]",
        details: """
            Writes into DIR (new or empty) the tenant's audit entries (entries/INDEX.json, the exact logged bytes),
            each with its RFC 9162 inclusion proof to one signed checkpoint (checkpoint.txt), a manifest signed by the
            service key (extract.json, extract.sig) naming the service key's fingerprint, and SHA256SUMS. Other
            tenants appear only as hashes inside the proofs. DATE is 2026-03-01 or 2026-03-01T02:00:00Z; both ends
            are inclusive, and a date alone as --to covers that day. The controller checks the folder with
            `lethe audit verify-extract DIR --public-key KEY.pem`, or with openssl, sha256sum and python3
            (docs/auditors.md). The extract is itself logged (audit.extract).
            """,
        options: [
            OptionSpec("--output", value: "DIR", "the folder to write (new or empty)"),
            OptionSpec("--from", value: "DATE", "the first day or time to include"),
            OptionSpec("--to", value: "DATE", "the last day or time to include"),
            .json,
        ]
    ) { invocation in
        _ = try invocation.positionals(1...1, "TENANT")
        let tenant = try invocation.tenant(at: 0)
        guard let output = invocation.arguments.value("--output") else { throw invocation.usageError("give --output DIR") }
        let manifest = try AuditExtract.write(
            try invocation.installation(), tenant: tenant, from: invocation.arguments.value("--from"),
            to: invocation.arguments.value("--to"), directory: FileSystem.absolute(output))
        if invocation.json {
            try invocation.console.json(manifest)
        } else {
            invocation.console.print(
                "Wrote \(Plural.count(manifest.entries.count, "audit entry", "audit entries")) of \(tenant) to \(output), each proven "
                    + "in the signed tree of \(manifest.treeSize) entries; service key \(manifest.serviceKeyFingerprint).")
        }
        return .success
    }

    static let verifyExtract = CommandSpec(
        ["audit", "verify-extract"],
        summary: "check an audit extract offline: signatures, entries, inclusion proofs",
        usage: "audit verify-extract DIR [--public-key FILE.pem] [--json]",
        details: """
            Checks, from the folder alone and the service's public key: the manifest's signature and the key's
            fingerprint, the checkpoint's signature, each entry's SHA-256, tenant and time, its inclusion proof to
            the checkpoint's root, that the folder holds no entry the manifest does not list, and SHA256SUMS.
            Without --public-key it uses this installation's own service key (the controller passes the key the
            operator gave them). Exit code 3 if anything fails.
            """,
        options: [OptionSpec("--public-key", value: "FILE", "the service's public key, PEM, obtained out of band"), .json]
    ) { invocation in
        let words = try invocation.positionals(1...1, "DIR")
        let directory = FileSystem.absolute(words[0])
        guard FileSystem.isDirectory(directory) else { throw LetheError.usage("\(words[0]) is not a folder") }
        let key: Ed25519.PublicKey
        if let path = invocation.arguments.value("--public-key") {
            do {
                key = try Ed25519.PublicKey(pemRepresentation: String(decoding: try FileSystem.readFile(path, limit: 64 << 10), as: UTF8.self))
            } catch let error as CryptoError {
                throw invocation.usageError("\(path): \(error)")
            }
        } else {
            key = try invocation.installation().signingKey().publicKey
        }
        let result = AuditExtractVerifier.verify(directory: directory, publicKey: key)
        if invocation.json {
            try invocation.console.json(result)
        } else {
            for check in result.checks {
                invocation.console.print("\(check.passed ? "ok    " : "FAILED") \(check.check): \(check.detail)")
            }
            invocation.console.print(result.isValid
                ? "The extract verifies: \(result.entries) entries of \(result.tenant ?? "?"), each in the signed log."
                : "The extract does NOT verify.")
        }
        return result.isValid ? .success : .integrity
    }
}
