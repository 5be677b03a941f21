import Foundation
import LetheCrypto
@testable import LetheKeys
import LetheStore
import Testing

/// Every edit of `keystore.json` by hand — a field changed, an entry removed, moved or
/// swapped, a key duplicated, a field added — is `KeyError.keystoreDamaged` naming the file,
/// and a ratchet attempted afterwards refuses before it changes anything: a tenant's key can
/// never be lost without the loss being reported.
@Suite struct KeystoreTamperingTests {
    let directory = TestDirectory()
    var keys: String { "\(directory.path)/keys" }
    var editor: KeystoreEditor { KeystoreEditor(keys: keys) }

    func tenant(_ name: String) -> TenantID { try! TenantID(name) }

    /// A keystore with acme and globex, opened.
    func populated() throws -> Keystore {
        let keystore = try Keystore.create(directory: keys, provider: editor.provider)
        try keystore.createKey(for: tenant("acme"))
        try keystore.createKey(for: tenant("globex"))
        return keystore
    }

    /// The attack that the v1 MAC input let through: globex's whole line moved into acme's
    /// `created` string and globex removed, which left the v1 MAC text, and so the MAC, as it
    /// was, and globex's key gone; the next ratchet would have made the loss permanent.
    @Test func entryMovedIntoAnotherEntrysCreationTimeIsRefused() throws {
        let keystore = try populated()
        var json = try editor.json()
        var tenants = try #require(json["tenants"] as? [String: [String: String]])
        let globex = try #require(tenants["globex"])
        let line = "globex \(globex["dekID"]!) \(globex["wrapped"]!) \(globex["commitment"]!) \(globex["created"]!)"
        tenants["acme"]!["created"] = tenants["acme"]!["created"]! + "\n" + line
        tenants.removeValue(forKey: "globex")
        json["tenants"] = tenants
        try editor.write(Array(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])))
        try editor.expectRefusedEverywhere("globex moved into acme's created", opened: keystore, tenant: tenant("acme"))
    }

    /// The same move, written in the file's canonical spelling: refused because a creation
    /// time must be a timestamp, and the v2 MAC input would differ anyway (see
    /// `KeystoreFormatTests`).
    @Test func entryMovedIntoCreationTimeInCanonicalSpellingIsRefused() throws {
        let keystore = try populated()
        let acme = try editor.entry("acme")
        let globex = try editor.entry("globex")
        let line = "globex \(globex["dekID"]!) \(globex["wrapped"]!) \(globex["commitment"]!) \(globex["created"]!)"
        try editor.edit { $0.tenants.removeValue(forKey: tenant("globex")) }
        try editor.replace(inEntryOf: "acme", "\"created\": \"\(acme["created"]!)\"",
                           with: "\"created\": \"\(acme["created"]!)\\n\(line)\"")
        try editor.expectRefusedEverywhere("globex moved, canonical", opened: keystore, tenant: tenant("acme"))
    }

    /// Each field of an entry, replaced by another well-formed value (the MAC catches it) or by
    /// a malformed one (validation catches it).
    @Test(arguments: [
        ("dekID", "dek-0000000000000000", "dek-XYZ"),
        ("wrapped", Data(count: 40).base64EncodedString(), Data(count: 39).base64EncodedString()),
        ("commitment", String(repeating: "0", count: 64), String(repeating: "A", count: 64)),
        ("created", "2000-01-01T00:00:00Z", "yesterday"),
    ])
    func editedEntryFieldIsRefused(field: String, wellFormed: String, malformed: String) throws {
        for replacement in [wellFormed, malformed] {
            try? FileSystem.removeTree(keys)
            let keystore = try populated()
            let old = try #require(try editor.entry("acme")[field])
            try editor.replace(inEntryOf: "acme", "\"\(field)\": \"\(old)\"", with: "\"\(field)\": \"\(replacement)\"")
            try editor.expectRefusedEverywhere("\(field) = \(replacement)", opened: keystore, tenant: tenant("globex"))
        }
    }

    @Test(arguments: [
        ("\"acme\": {", "\"acme2\": {", "tenant renamed"),
        ("\"acme\": {", "\"ACME\": {", "tenant id invalid"),
        ("\"epoch\": 1,", "\"epoch\": 0,", "epoch 0"),
        ("\"format\": \"lethe-keystore-v2\"", "\"format\": \"lethe-keystore-v3\"", "unknown format"),
        ("\"mac\": \"", "\"mac\": \"0", "MAC too long"),
        ("\n  \"tenants\"", " \n  \"tenants\"", "extra whitespace"),
    ])
    func editedTopLevelIsRefused(old: String, new: String, what: String) throws {
        let keystore = try populated()
        try editor.replace(old, with: new)
        try editor.expectRefusedEverywhere(what, opened: keystore, tenant: tenant("globex"))
    }

    @Test func flippedMACDigitIsRefused() throws {
        let keystore = try populated()
        let mac = try #require(try editor.json()["mac"] as? String)
        let flipped = (mac.first == "0" ? "1" : "0") + mac.dropFirst()
        try editor.replace("\"mac\": \"\(mac)\"", with: "\"mac\": \"\(flipped)\"")
        try editor.expectRefusedEverywhere("MAC digit flipped", opened: keystore, tenant: tenant("globex"))
    }

    @Test func removedEntryIsRefused() throws {
        let keystore = try populated()
        try editor.edit { $0.tenants.removeValue(forKey: tenant("globex")) }
        try editor.expectRefusedEverywhere("globex removed", opened: keystore, tenant: tenant("acme"))
    }

    @Test func swappedWrappedKeysAreRefused() throws {
        let keystore = try populated()
        try editor.edit { file in
            let acme = file.tenants[tenant("acme")]!, globex = file.tenants[tenant("globex")]!
            file.tenants[tenant("acme")] = .init(dekID: acme.dekID, wrapped: globex.wrapped, commitment: acme.commitment, created: acme.created)
            file.tenants[tenant("globex")] = .init(dekID: globex.dekID, wrapped: acme.wrapped, commitment: globex.commitment, created: globex.created)
        }
        try editor.expectRefusedEverywhere("wrapped keys swapped", opened: keystore, tenant: tenant("acme"))
    }

    @Test func duplicatedEntryIsRefused() throws {
        let keystore = try populated()
        let acmeLine = try editor.line(of: "acme")
        try editor.replace(acmeLine, with: "\(acmeLine)\n\(acmeLine)")
        try editor.expectRefusedEverywhere("acme duplicated", opened: keystore, tenant: tenant("globex"))
    }

    @Test func duplicatedTopLevelKeyIsRefused() throws {
        let keystore = try populated()
        try editor.replace("  \"epoch\": 1,\n", with: "  \"epoch\": 1,\n  \"epoch\": 1,\n")
        try editor.expectRefusedEverywhere("epoch duplicated", opened: keystore, tenant: tenant("globex"))
    }

    @Test func trailingUnknownFieldIsRefused() throws {
        let keystore = try populated()
        let text = try editor.text()
        try editor.write(String(text.dropLast(3)) + ",\n  \"note\": \"harmless?\"\n}\n")
        try editor.expectRefusedEverywhere("unknown top-level field", opened: keystore, tenant: tenant("globex"))
    }

    @Test func unknownFieldInAnEntryIsRefused() throws {
        let keystore = try populated()
        let wrapped = try #require(try editor.entry("acme")["wrapped"])
        try editor.replace(inEntryOf: "acme", "\"wrapped\": \"\(wrapped)\"}", with: "\"wrapped\": \"\(wrapped)\", \"spare\": \"x\"}")
        try editor.expectRefusedEverywhere("unknown entry field", opened: keystore, tenant: tenant("globex"))
    }

    /// Control for the tests above: the editor's canonical rewrite with a recomputed MAC is
    /// accepted, so what they refuse is the edit, not the way it was written.
    @Test func canonicalRewriteWithAValidMACIsAccepted() throws {
        let keystore = try populated()
        let secret = try keystore.unwrapKey(for: tenant("globex")).secret.withUnsafeBytes { Array($0) }
        try editor.edit(reauthenticate: true) { _ in }
        #expect(try Keystore(directory: keys, provider: editor.provider).unwrapKey(for: tenant("globex"))
            .secret.withUnsafeBytes { Array($0) } == secret)
    }
}
