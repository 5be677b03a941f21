import LetheKeys

extension FuzzTargets {
    static let keyTargets: [FuzzTarget] = [
        FuzzTarget("keystore", "keystore.json (v2, or v1 before migration): KeystoreFile.decode, then the MAC input and the canonical file") { input in
            let stored = try KeystoreFile.decode(input, path: "keystore.json")
            switch stored.format {
            case .v2:
                // `Keystore.verify` MACs the input made while reading; the writer MACs this one.
                invariant(stored.authenticatedBytes == stored.file.authenticatedBytes, "the MAC input read is the MAC input written")
                invariant(stored.file.encoded(mac: stored.mac) == input, "an accepted v2 keystore is its canonical encoding")
            case .v1:
                _ = LegacyKeystoreFormat.authenticatedBytes(stored.file)
                // Migration writes the v2 form, which must read back as the same keystore.
                let migrated = stored.file.encoded(mac: stored.mac)
                do {
                    let again = try KeystoreFile.decode(migrated, path: "keystore.json")
                    invariant(again.file == stored.file && again.format == .v2, "a migrated keystore reads back unchanged")
                } catch {
                    fatalError("invariant broken: a migrated keystore does not read back: \(error)")
                }
            }
        },
    ]
}
