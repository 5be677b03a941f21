import Foundation
import LetheCrypto
import LetheKeys
import LetheStore
import Testing

/// The crypto-shredding property of the KEK ratchet, and its behaviour under crashes.
@Suite struct RatchetTests {
    let directory = TestDirectory()
    var keys: String { "\(directory.path)/keys" }
    var provider: FileKEKProvider { FileKEKProvider(directory: "\(keys)/kek") }

    func tenant(_ name: String) -> TenantID { try! TenantID(name) }

    func secretHex(_ key: DataEncryptionKey) -> String {
        key.secret.withUnsafeBytes { Hex.encode($0) }
    }

    /// A keystore with three tenants; returns their secrets.
    func populated() throws -> (Keystore, [String: String]) {
        let keystore = try Keystore.create(directory: keys, provider: provider)
        var secrets: [String: String] = [:]
        for name in ["acme", "globex", "initech"] {
            try keystore.createKey(for: tenant(name))
            secrets[name] = secretHex(try keystore.unwrapKey(for: tenant(name)))
        }
        return (keystore, secrets)
    }

    @Test func revokeRemovesTheTenantAndMovesToTheNextEpoch() throws {
        let (keystore, secrets) = try populated()
        let ratchet = try keystore.revoke(tenant("acme"))
        #expect(ratchet.from == KEKEpoch(1) && ratchet.to == KEKEpoch(2) && ratchet.revoked?.tenant == tenant("acme"))
        #expect(try keystore.status().epochsPresent == [KEKEpoch(2)])
        #expect(throws: KeyError.noTenantKey(tenant("acme"))) { _ = try keystore.unwrapKey(for: tenant("acme")) }
        #expect(try secretHex(keystore.unwrapKey(for: tenant("globex"))) == secrets["globex"])
        #expect(try secretHex(keystore.unwrapKey(for: tenant("initech"))) == secrets["initech"])
    }

    /// Builds what an attacker holds: `keystoreCopy` as keystore.json, plus a copy of every
    /// KEK file present in the live key directory right now.
    func attackerView(keystoreCopy: String, name: String) throws -> String {
        let view = "\(directory.path)/\(name)"
        try FileSystem.makeDirectories("\(view)/kek")
        try TestDirectory.copyTree(keystoreCopy, to: "\(view)/keystore.json")
        for file in try FileSystem.listDirectory("\(keys)/kek") {
            try TestDirectory.copyTree("\(keys)/kek/\(file)", to: "\(view)/kek/\(file)")
        }
        return view
    }

    /// The property crypto-shredding rests on: a copy of the keystore taken before the
    /// revocation, together with every key file present after it, cannot unwrap the revoked
    /// DEK; the other tenants' DEKs still unwrap from the live keystore.
    @Test func copyTakenBeforeRevokeCannotUnwrapTheRevokedKey() throws {
        let (keystore, secrets) = try populated()
        let copy = "\(directory.path)/keystore-copy.json"
        try TestDirectory.copyTree("\(keys)/keystore.json", to: copy)

        // Control: before the revocation, that copy plus the key files does yield the key, so
        // the assertions below fail if the ratchet is taken out of `revoke`.
        let before = try attackerView(keystoreCopy: copy, name: "attacker-before")
        #expect(try secretHex(Keystore(directory: before, provider: FileKEKProvider(directory: "\(before)/kek"))
            .unwrapKey(for: tenant("acme"))) == secrets["acme"])

        try keystore.revoke(tenant("acme"))

        let after = try attackerView(keystoreCopy: copy, name: "attacker-after")
        let attacker = FileKEKProvider(directory: "\(after)/kek")
        // The epoch-1 KEK is gone; the keystore names the copy as rolled back past the ratchet.
        #expect(throws: KeyError.keystoreRolledBack(path: "\(after)/keystore.json", epoch: 1, current: 2)) {
            _ = try Keystore(directory: after, provider: attacker).unwrapKey(for: tenant("acme"))
        }
        // Nor does any KEK that exists now unwrap the old entry, whatever epoch it claims.
        let old = try JSONSerialization.jsonObject(with: Data(try FileSystem.readFile(copy))) as! [String: Any]
        let entry = (old["tenants"] as! [String: [String: String]])["acme"]!
        let wrapped = Array(Data(base64Encoded: entry["wrapped"]!)!)
        #expect(try !attacker.epochs().isEmpty)
        for epoch in try attacker.epochs() {
            for claimed in [1, epoch.number] {
                let context = Array("tenant=acme".utf8) + [0] + Array("dek=\(entry["dekID"]!)".utf8) + [0]
                    + Array("epoch=\(claimed)".utf8)
                #expect(throws: CryptoError.authenticationFailure) {
                    _ = try attacker.unwrap(wrapped, context: context, epoch: epoch)
                }
            }
        }
        #expect(try secretHex(keystore.unwrapKey(for: tenant("globex"))) == secrets["globex"])
        #expect(try secretHex(keystore.unwrapKey(for: tenant("initech"))) == secrets["initech"])
    }

    @Test func revokedEpochKeyFileIsGoneFromDisk() throws {
        let (keystore, _) = try populated()
        try keystore.revoke(tenant("acme"))
        #expect(!FileSystem.exists("\(keys)/kek/epoch-000001.kek"))
        #expect(FileSystem.exists("\(keys)/kek/epoch-000002.kek"))
    }

    /// The ratchet reports the entry it removed, with the commitment of the key itself, as
    /// the keystore held it just before: what a destruction report must carry.
    @Test func revokeReportsTheRemovedKeysIdCommitmentAndEpoch() throws {
        let (keystore, _) = try populated()
        let before = try #require(try keystore.keyInfo(for: tenant("globex")))
        let commitment = try keystore.unwrapKey(for: tenant("globex")).commitment()
        let ratchet = try keystore.revoke(tenant("globex"))
        let revoked = try #require(ratchet.revoked)
        #expect(revoked == before)
        #expect(revoked.commitment == commitment)
        #expect(revoked.epoch == KEKEpoch(1), "the epoch the revoked key was wrapped under")
        #expect(try keystore.rotate().revoked == nil, "a rotation revokes nothing")
    }

    @Test func revokingAnAbsentTenantChangesNothing() throws {
        let (keystore, _) = try populated()
        try keystore.revoke(tenant("acme"))
        let again = try keystore.revoke(tenant("acme"))
        #expect(again.from == KEKEpoch(2) && again.to == KEKEpoch(2) && again.revoked == nil)
        #expect(try keystore.status().epochsPresent == [KEKEpoch(2)])
    }

    @Test func rotateKeepsEveryKeyAndDestroysTheOldEpoch() throws {
        let (keystore, secrets) = try populated()
        let ratchet = try keystore.rotate()
        #expect(ratchet.to == KEKEpoch(2))
        #expect(try provider.epochs() == [KEKEpoch(2)])
        for (name, secret) in secrets {
            #expect(try secretHex(keystore.unwrapKey(for: tenant(name))) == secret)
        }
    }

    struct InjectedCrash: Error {}

    /// A crash injected after each step of the ratchet leaves a keystore that opens and
    /// unwraps every key that was not being revoked; reopening completes the ratchet, and the
    /// revocation can be run again to the same end state.
    @Test(arguments: ["ratchet.epoch-created", "ratchet.keystore-written", "ratchet.old-epoch-destroyed"])
    func crashBetweenRatchetStepsLeavesAUsableKeystore(step: String) throws {
        let (_, secrets) = try populated()
        let crashing = try Keystore(directory: keys, provider: provider) { reached in
            if reached == step { throw InjectedCrash() }
        }
        #expect(throws: InjectedCrash.self) { try crashing.revoke(tenant("acme")) }

        let reopened = try Keystore(directory: keys, provider: provider)
        let status = try reopened.status()
        #expect(status.epochsPresent == [status.epoch], "reopening completes the interrupted ratchet")
        #expect(try secretHex(reopened.unwrapKey(for: tenant("globex"))) == secrets["globex"])
        #expect(try secretHex(reopened.unwrapKey(for: tenant("initech"))) == secrets["initech"])

        try reopened.revoke(tenant("acme"))
        #expect(throws: KeyError.noTenantKey(tenant("acme"))) { _ = try reopened.unwrapKey(for: tenant("acme")) }
        #expect(try reopened.status().epochsPresent.count == 1)
        #expect(try secretHex(reopened.unwrapKey(for: tenant("globex"))) == secrets["globex"])
    }

    @Test func crashBeforeCommitKeepsTheRevokedKeyUntilRevokeIsRunAgain() throws {
        let (_, secrets) = try populated()
        let crashing = try Keystore(directory: keys, provider: provider) { if $0 == "ratchet.epoch-created" { throw InjectedCrash() } }
        #expect(throws: InjectedCrash.self) { try crashing.revoke(tenant("acme")) }
        let reopened = try Keystore(directory: keys, provider: provider)
        #expect(try reopened.status().epoch == KEKEpoch(1))
        #expect(try provider.epochs() == [KEKEpoch(1)], "the orphan epoch 2 was destroyed on open")
        #expect(try secretHex(reopened.unwrapKey(for: tenant("acme"))) == secrets["acme"])
    }

    @Test func crashAfterCommitDestroysTheOldEpochOnOpen() throws {
        _ = try populated()
        let crashing = try Keystore(directory: keys, provider: provider) { if $0 == "ratchet.keystore-written" { throw InjectedCrash() } }
        #expect(throws: InjectedCrash.self) { try crashing.revoke(tenant("acme")) }
        #expect(FileSystem.exists("\(keys)/kek/epoch-000001.kek"), "the crash left the old epoch behind")
        let reopened = try Keystore(directory: keys, provider: provider)
        #expect(!FileSystem.exists("\(keys)/kek/epoch-000001.kek"))
        #expect(throws: KeyError.noTenantKey(tenant("acme"))) { _ = try reopened.unwrapKey(for: tenant("acme")) }
    }

    @Test func missingCurrentKEKIsAClearError() throws {
        _ = try populated()
        try FileSystem.removeFile("\(keys)/kek/epoch-000001.kek")
        #expect(throws: KeyError.kekMissing(epoch: 1, location: "\(keys)/kek")) {
            _ = try Keystore(directory: keys, provider: provider)
        }
    }
}
