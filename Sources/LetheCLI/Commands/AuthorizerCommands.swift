import Foundation
import LetheCore
import LetheStore

enum AuthorizerCommands {
    static let specs = [add, list, remove]

    static let add = CommandSpec(
        ["authorizer", "add"],
        summary: "register a person who may approve destructions, with their Ed25519 public key",
        usage: "authorizer add NAME --role dpo|officer --public-key FILE.pem [--json]",
        details: """
            The key is an Ed25519 public key in PEM, as made on the authorizer's own machine:
              openssl genpkey -algorithm ed25519 -out me.pem
              openssl pkey -in me.pem -pubout -out me.pub.pem
            Only the public key is given to Lethe. The registry is signed by the service key.
            """,
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
        let installation = try invocation.installation()
        let authorizer = try AuthorizerRegistry(installation).add(name: name, role: role, publicKeyPEM: pem)
        if invocation.json {
            try invocation.console.json(authorizer)
        } else {
            invocation.console.print("Registered \(name) (\(role.rawValue)), key \(authorizer.fingerprint)")
        }
        return .success
    }

    static let list = CommandSpec(
        ["authorizer", "list"],
        summary: "list authorizers, including removed ones",
        usage: "authorizer list [--json]",
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let authorizers = try AuthorizerRegistry(try invocation.installation()).all()
        if invocation.json {
            try invocation.console.json(authorizers)
            return .success
        }
        guard !authorizers.isEmpty else {
            invocation.console.print("No authorizers (`lethe authorizer add`).")
            return .success
        }
        var rows = [["NAME", "ROLE", "KEY FINGERPRINT", "ADDED", "STATUS"]]
        for a in authorizers {
            rows.append([a.name, a.role.rawValue, a.fingerprint, a.added, a.removed.map { "removed \($0): \(a.removalReason ?? "")" } ?? "active"])
        }
        Format.table(rows).forEach(invocation.console.print)
        return .success
    }

    static let remove = CommandSpec(
        ["authorizer", "remove"],
        summary: "remove an authorizer (recorded, never erased: past approvals stay checkable)",
        usage: "authorizer remove NAME --reason TEXT [--json]",
        options: [OptionSpec("--reason", value: "TEXT", "why (recorded)"), .json]
    ) { invocation in
        let name = try invocation.positionals(1...1, "NAME")[0]
        guard let reason = invocation.arguments.value("--reason"), !reason.isEmpty else { throw invocation.usageError("--reason is required") }
        let installation = try invocation.installation()
        let removed = try AuthorizerRegistry(installation).remove(name: name, reason: reason)
        if invocation.json {
            try invocation.console.json(removed)
        } else {
            invocation.console.print("Removed \(name); the entry stays in the registry as removed.")
        }
        return .success
    }
}
