import LetheCore
import LetheKeys

enum KeysCommands {
    static let specs = [status, rotate]

    static let status = CommandSpec(
        ["keys", "status"],
        summary: "show KEK epochs, tenant key count and the signing key fingerprint (never key bytes)",
        usage: "keys status [--json]",
        details: """
            Shows the current KEK epoch, the epochs that have a KEK (anything besides the current one is a
            ratchet awaiting completion, which the next key operation finishes), how many tenant DEKs the
            keystore holds, and the service signing key's fingerprint, derived from the private key. If
            signing-key.pub.pem is not that key's public half, it fails with exit 3 naming the file. No key
            material is ever printed.
            """,
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let installation = try invocation.installation()
        let status = try installation.keystore().status()
        // The fingerprint of the key that actually signs, not of whatever the .pub file says.
        let signing = try installation.signingKey()
        try signing.requireMatchingPublicFile(in: installation.keysDirectory)
        let output = Output(
            kekEpoch: status.epoch.number,
            kekEpochsPresent: status.epochsPresent.map(\.number),
            pendingEpochDestruction: status.epochsPresent.filter { $0 != status.epoch }.map(\.number),
            tenantKeys: status.tenantKeys,
            keystore: status.keystorePath,
            kekProvider: "file:\(status.kekLocation)",
            signingKeyFingerprint: try signing.fingerprint,
            signingPublicKey: ServiceSigningKey.publicPath(in: installation.keysDirectory))
        if invocation.json {
            try invocation.console.json(output)
        } else {
            let c = invocation.console
            c.print("KEK epoch          \(output.kekEpoch)")
            c.print("KEKs present       \(output.kekEpochsPresent.count == 1 ? "epoch" : "epochs") \(output.kekEpochsPresent.map(String.init).joined(separator: ", "))"
                + (output.pendingEpochDestruction.isEmpty ? "" : " (awaiting destruction: \(output.pendingEpochDestruction))"))
            c.print("tenant keys        \(output.tenantKeys)")
            c.print("keystore           \(output.keystore)")
            c.print("KEK provider       \(output.kekProvider)")
            c.print("signing key        \(output.signingKeyFingerprint)")
            c.print("public key         \(output.signingPublicKey)")
        }
        return .success
    }

    static let rotate = CommandSpec(
        ["keys", "rotate"],
        summary: "move every tenant key to a new KEK epoch and destroy the old KEK",
        usage: "keys rotate [--json]",
        details: """
            Runs the KEK ratchet without revoking anyone: creates KEK epoch e+1, re-wraps every tenant DEK
            under it, replaces the keystore atomically, then destroys epoch e. Copies of the keystore made
            before the rotation become useless without the old KEK. Data objects are not rewritten.
            """,
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let ratchet = try invocation.installation().rotateKeys()
        if invocation.json {
            try invocation.console.json(["fromEpoch": ratchet.from.number, "toEpoch": ratchet.to.number])
        } else {
            invocation.console.print("KEK epoch \(ratchet.from) → \(ratchet.to); epoch \(ratchet.from) destroyed")
        }
        return .success
    }

    struct Output: Encodable {
        let kekEpoch: Int
        let kekEpochsPresent: [Int]
        let pendingEpochDestruction: [Int]
        let tenantKeys: Int
        let keystore: String
        let kekProvider: String
        let signingKeyFingerprint: String
        let signingPublicKey: String
    }
}
