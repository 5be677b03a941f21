import Foundation
import LetheCrypto
import LetheKeys
import LetheStore
import Testing

/// A v1 keystore — the format and MAC rule of Lethe before v2, rebuilt here independently of
/// the code under test — is verified under its own rule and rewritten as v2 once, when opened;
/// one whose v1 MAC fails, or that carries the edit the v1 MAC could not see, is refused and
/// left as it was.
@Suite struct KeystoreMigrationTests {
    let directory = TestDirectory()
    var keys: String { "\(directory.path)/keys" }
    var editor: KeystoreEditor { KeystoreEditor(keys: keys) }

    func tenant(_ name: String) -> TenantID { try! TenantID(name) }

    /// What the old code wrote (`git show main:Sources/LetheKeys/KeystoreFile.swift`): JSON
    /// from JSONEncoder (pretty, sorted keys, slashes unescaped) plus a newline, with a MAC
    /// over `lethe-keystore-v1\nepoch N\n` and one `tenant dekID wrapped commitment created\n`
    /// line per tenant in sorted order.
    struct V1File: Codable {
        var format = "lethe-keystore-v1"
        var epoch: Int
        var tenants: [String: [String: String]]
        var mac = ""

        var macText: String {
            var text = "\(format)\nepoch \(epoch)\n"
            for name in tenants.keys.sorted() {
                let e = tenants[name]!
                text += "\(name) \(e["dekID"]!) \(e["wrapped"]!) \(e["commitment"]!) \(e["created"]!)\n"
            }
            return text
        }

        func encoded() throws -> [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return Array(try encoder.encode(self)) + [0x0a]
        }
    }

    /// A keystore with acme and globex, rewritten in v1 form (same KEK, same wrapped keys);
    /// returns the tenants' secrets.
    func v1Keystore(edit: (inout V1File) -> Void = { _ in }, authenticate: Bool = true) throws -> [String: [UInt8]] {
        let keystore = try Keystore.create(directory: keys, provider: editor.provider)
        var secrets: [String: [UInt8]] = [:]
        for name in ["acme", "globex"] {
            try keystore.createKey(for: tenant(name))
            secrets[name] = try keystore.unwrapKey(for: tenant(name)).secret.withUnsafeBytes { Array($0) }
        }
        var file = V1File(epoch: 1, tenants: try #require(try editor.json()["tenants"] as? [String: [String: String]]))
        edit(&file)
        if authenticate {
            file.mac = Hex.encode(try editor.provider.authenticate(Array(file.macText.utf8), epoch: KEKEpoch(1)))
        } else {
            file.mac = String(repeating: "ab", count: 32)
        }
        try editor.write(try file.encoded())
        return secrets
    }

    @Test func v1KeystoreIsRewrittenAsV2WhenOpenedAndKeepsEveryKey() throws {
        let secrets = try v1Keystore()
        let kekBefore = try editor.snapshot().filter { $0.key != "keystore.json" }
        let keystore = try Keystore(directory: keys, provider: editor.provider)
        #expect(try editor.json()["format"] as? String == "lethe-keystore-v2")
        for (name, secret) in secrets {
            #expect(try keystore.unwrapKey(for: tenant(name)).secret.withUnsafeBytes { Array($0) } == secret)
        }
        #expect(try editor.snapshot().filter { $0.key != "keystore.json" } == kekBefore, "migration does not ratchet")
        #expect(try keystore.status().epoch == KEKEpoch(1))
    }

    @Test func migrationHappensOnce() throws {
        _ = try v1Keystore()
        _ = try Keystore(directory: keys, provider: editor.provider)
        let migrated = try editor.bytes()
        _ = try Keystore(directory: keys, provider: editor.provider)
        #expect(try editor.bytes() == migrated, "a v2 keystore is not rewritten on open")
    }

    @Test func v1KeystoreWhoseMACFailsIsRefusedAndLeftAsItWas() throws {
        _ = try v1Keystore(authenticate: false)
        let before = try editor.snapshot()
        #expect(throws: KeyError.keystoreDamaged(path: editor.path, reason: "its MAC does not verify under KEK epoch 1 (v1 rule)")) {
            _ = try Keystore(directory: keys, provider: editor.provider)
        }
        #expect(try editor.snapshot() == before)
    }

    /// The v1 ambiguity: globex's line moved into acme's `created` leaves the v1 MAC valid.
    /// The v1 code accepted this file and had lost globex; migration refuses it.
    @Test func v1KeystoreCarryingTheMovedEntryAttackIsRefusedNotMigrated() throws {
        var macInputUnchanged = false
        _ = try v1Keystore { file in
            let original = file.macText
            let globex = file.tenants["globex"]!
            let line = "globex \(globex["dekID"]!) \(globex["wrapped"]!) \(globex["commitment"]!) \(globex["created"]!)"
            file.tenants["acme"]!["created"]! += "\n" + line
            file.tenants.removeValue(forKey: "globex")
            macInputUnchanged = file.macText == original
        }
        #expect(macInputUnchanged, "the edit leaves the v1 MAC input, and so the MAC, as it was")
        let before = try editor.snapshot()
        editor.expectDamaged("v1 with the moved entry") { _ = try Keystore(directory: keys, provider: editor.provider) }
        #expect(try editor.snapshot() == before)
        #expect(try editor.json()["format"] as? String == "lethe-keystore-v1")
    }
}
