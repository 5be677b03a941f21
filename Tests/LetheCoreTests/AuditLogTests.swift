import Foundation
import LetheCore
import LetheStore
import Testing

/// The audit log detects editing, deleting and reordering of entries.
@Suite struct AuditLogTests {
    let test = try! TestInstallation()
    var trail: AuditTrail { AuditTrail(test.installation) }
    var store: ObjectStore { test.installation.store }

    func appendFive() throws {
        for index in 0..<5 {
            try trail.record("test.event", tenant: nil, details: ["n": String(index)])
        }
    }

    func problems() throws -> [String] {
        try trail.log.verify(publicKey: try test.installation.signingKey().publicKey).problems
    }

    var tiles: StoredTiles { StoredTiles(store: store) }

    @Test func untouchedLogVerifies() throws {
        try appendFive()
        #expect(try problems().isEmpty)
        #expect(try trail.history().entries.count == 6, "init plus five")
    }

    @Test func editedEntryIsDetected() throws {
        try appendFive()
        var entries = try tiles.entries()
        entries[2] = Array(String(decoding: entries[2], as: UTF8.self).replacingOccurrences(of: "test.event", with: "test.evenT").utf8)
        try tiles.setEntries(entries)
        #expect(try problems().contains { $0.contains("root does not match") })
    }

    @Test func anEditedHashTileIsDetected() throws {
        try appendFive()
        var hashes = try tiles.hashes()
        hashes[1][0] ^= 1
        try tiles.setHashes(hashes)
        #expect(try problems().contains { $0.contains("audit/tile/0/000.p/6") })
        #expect(throws: LetheError.self) { try trail.record("over.a.bad.tile", tenant: nil) }
    }

    @Test func deletedEntryIsDetected() throws {
        try appendFive()
        var entries = try tiles.entries()
        entries.remove(at: 3)
        try tiles.setEntries(entries)
        #expect(try problems().contains { $0.contains("does not hold 6 entries") })
        try store.delete(try tiles.bundleKey())
        #expect(try problems().contains { $0.contains("missing") })
    }

    @Test func reorderedEntriesAreDetected() throws {
        try appendFive()
        var entries = try tiles.entries()
        entries.swapAt(2, 3)
        try tiles.setEntries(entries)
        #expect(try problems().count >= 2)
    }

    @Test func truncatedLogIsDetectedByTheHeadThisHostKept() throws {
        try appendFive()
        // The whole cut, as S would make it: the newest entries, their checkpoints, and the
        // newest-checkpoint object put back to the older checkpoint. The store alone is then
        // consistent; only the checkpoint this host anchored in its key directory knows better.
        try tiles.setEntries(Array(try tiles.entries().prefix(4)), renamed: true)
        try tiles.setHashes(Array(try tiles.hashes().prefix(4)), renamed: true)
        for object in try store.list(prefix: try ObjectKey("audit/checkpoints")) {
            if let size = Int(object.key.name), size > 4 { try store.delete(object.key) }
        }
        try store.put(try ObjectKey("audit/checkpoint"), try store.get(try ObjectKey("audit/checkpoints/00000000000000000004")))
        let cut = try store.list(prefix: try ObjectKey("audit/tile")).map(\.key.rawValue)
        #expect(cut == ["audit/tile/0/000.p/4", "audit/tile/entries/000.p/4"])
        #expect(try problems().contains { $0.contains("cut short") })
        #expect(throws: LetheError.self) { try trail.record("after.the.cut", tenant: nil) }
        #expect(try store.list(prefix: try ObjectKey("audit/tile")).map(\.key.rawValue) == cut, "nothing was appended over the cut")
    }

    @Test func aHistoryReadAgainAfterAppendsReadsOnlyTheNewEntriesAndEqualsAFreshRead() throws {
        try appendFive()
        _ = try trail.history()
        try test.installation.batchingAudit {
            for n in 0..<300 { try trail.note("later", tenant: nil, details: ["n": String(n)]) }
        }
        try trail.record("last", tenant: nil)
        let extended = try trail.history()
        let fresh = try trail.log.history(publicKey: try test.installation.signingKey().publicKey)
        #expect(extended.bytes == fresh.bytes && extended.entries == fresh.entries && extended.size == 307)
        #expect(try extended.prove(index: 300).path == fresh.prove(index: 300).path)
    }

    @Test func anEditMadeAfterAHistoryWasReadNeverEntersItAndVerifyFindsIt() throws {
        try trail.record((0..<300).map { AuditLog.Event("event", tenant: nil, details: ["n": String($0)]) })
        try trail.record("first", tenant: nil)
        let before = try trail.history()
        // Entry 2 is in the full bundle 000, which no later append reads again.
        let bundle = try ObjectKey("audit/tile/entries/000")
        var entries = try StoredTiles.decode(try store.get(bundle))
        entries[2] = Array(String(decoding: entries[2], as: UTF8.self).replacingOccurrences(of: "event", with: "EVENT").utf8)
        try store.put(bundle, StoredTiles.bundle(entries))
        try trail.record("next", tenant: nil)
        let after = try trail.history()
        #expect(after.size == before.size + 1 && after.entries[2] == before.entries[2], "the proven entry, not the edit")
        #expect(try problems().contains { $0.contains("root does not match") })
    }

    @Test func inclusionProofOfEveryEntryVerifies() throws {
        try appendFive()
        let key = try test.installation.signingKey().publicKey
        let history = try trail.history()
        for index in history.entries.indices {
            #expect(try AuditLog.verify(try history.prove(index: index), entry: history.bytes[index], publicKey: key))
        }
        #expect(try !AuditLog.verify(try history.prove(index: 1), entry: history.bytes[2], publicKey: key))
    }
}

@Suite struct AuditAppendTests {
    let test = try! TestInstallation()

    @Test func appendAfterTilesPastTheCheckpointSignsOnlyTheTrueLog() throws {
        let trail = AuditTrail(test.installation)
        let store = test.installation.store
        let tiles = StoredTiles(store: store)
        try trail.record("a", tenant: nil)
        try trail.record("b", tenant: nil)
        // Tiles past the signed checkpoint: a crash between writing tiles and signing, or tiles
        // planted by whoever writes the store. They were never part of the log: the next append
        // overwrites or removes them rather than signing over them.
        let orphan = try AuditEntry(index: 3, time: "2026-01-01T00:00:00Z", actor: "x", operation: "orphan", tenant: nil, details: [:])
            .canonicalBytes()
        let entries = try tiles.entries() + [orphan, orphan]
        try store.put(try ObjectKey("audit/tile/entries/000.p/5"), StoredTiles.bundle(entries))
        try store.put(try ObjectKey("audit/tile/0/000.p/5"), try entries.flatMap { try MerkleTree.leafHash($0) })
        try store.put(try ObjectKey("audit/tile/entries/001.p/1"), StoredTiles.bundle([orphan]))
        #expect(try trail.log.verify(publicKey: try test.installation.signingKey().publicKey).notes.contains { $0.contains("3 tiles past") })
        let (appended, _) = try trail.record([AuditLog.Event("c", tenant: nil)])
        #expect(appended[0].index == 3)
        #expect(try trail.history().entries.map(\.operation) == ["init", "a", "b", "c"])
        #expect(try store.list(prefix: try ObjectKey("audit/tile")).map(\.key.rawValue) == ["audit/tile/0/000.p/4", "audit/tile/entries/000.p/4"],
                "superseded partial tiles and the leftovers past the new size are removed")
        let verification = try trail.log.verify(publicKey: try test.installation.signingKey().publicKey)
        #expect(verification.problems.isEmpty && verification.notes.isEmpty)
    }
}

/// Issue 9, finding 5: the log trusted its derived files. Appends now start from the signed
/// checkpoint, and the host's anchor moves only along a consistency proof.
@Suite struct AuditAnchorTests {
    let test = try! TestInstallation()
    var trail: AuditTrail { AuditTrail(test.installation) }
    var store: ObjectStore { test.installation.store }

    func integrityMessage(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch let error as LetheError where error.kind == .integrity {
            return error.message
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func anEditedEntryWithMatchingTilesIsNeverSigned() throws {
        for n in 0..<4 { try trail.record("event", tenant: nil, details: ["n": String(n)]) }
        // Rewrite entry 2 and store the hash tile that matches the rewritten entries.
        let tiles = StoredTiles(store: store)
        var entries = try tiles.entries()
        entries[2] = Array(String(decoding: entries[2], as: UTF8.self).replacingOccurrences(of: "\"n\":\"1\"", with: "\"n\":\"9\"").utf8)
        try tiles.setEntries(entries)
        try tiles.setHashes(try entries.map { try MerkleTree.leafHash($0) })
        #expect(integrityMessage { try trail.record("next", tenant: nil) }.contains("do not reproduce the signed checkpoint"))
        #expect(try tiles.entries().count == 5, "nothing was appended over the edit")
    }

    @Test func theAnchorFollowsAnotherHostsAppendsButNotARewrite() throws {
        try trail.record("a", tenant: nil)
        // Host B shares the store and the keys, and has its own key directory (a copy).
        let hostB = "\(test.root)/keys-b"
        try FileManager.default.copyItem(atPath: test.installation.keysDirectory, toPath: hostB)
        let logB = AuditLog(
            store: store, lockDirectory: "\(test.root)/locks-b", anchors: TrustAnchors(directory: hostB),
            installationID: test.installation.configuration.installationID)
        let key = try test.installation.signingKey()
        try logB.append([AuditLog.Event("b", tenant: nil)], actor: "b", time: "2026-01-10T03:00:00Z", key: key)
        // Host A accepts the longer log: it extends what A anchored.
        try trail.record("c", tenant: nil)
        #expect(try trail.history().entries.map(\.operation) == ["init", "a", "b", "c"])
        // Host B, behind by one, now sees a store ahead of its anchor and checks it too; then
        // something rewrites entry 1, its tiles, and re-signs (O could; S cannot sign).
        let tiles = StoredTiles(store: store)
        var entries = try tiles.entries()
        entries[1] = try AuditEntry(index: 1, time: "2026-01-10T02:00:00Z", actor: "x", operation: "rewritten", tenant: nil, details: [:])
            .canonicalBytes()
        try tiles.setEntries(entries)
        let leaves = try entries.map { try MerkleTree.leafHash($0) }
        try tiles.setHashes(leaves)
        let forged = try Checkpoint.sign(origin: logB.origin, size: 4, root: try MerkleTree.root(leaves), key: key.privateKey)
        try store.put(try ObjectKey("audit/checkpoint"), Array(forged.text.utf8))
        // Host A anchored size 4 with the true root: the same size, another root.
        #expect(integrityMessage { _ = try trail.history() }.contains("another root"))
        // Host B anchored size 3: the rewritten tree does not extend it.
        #expect(integrityMessage { _ = try logB.history(publicKey: key.publicKey) }.contains("does not extend"))
    }

    @Test func aDamagedAnchorIsAnIntegrityError() throws {
        try trail.record("a", tenant: nil)
        try FileSystem.writeAtomically(Array("not a checkpoint\n".utf8), to: "\(test.installation.keysDirectory)/audit-head", mode: 0o600)
        #expect(integrityMessage { _ = try trail.history() }.contains("audit-head"))
    }

    @Test func everyCheckpointInAReportIsCheckedAgainstTheLog() throws {
        try trail.record("a", tenant: nil)
        let (_, checkpoint) = try trail.record("b", tenant: nil)
        let key = try test.installation.signingKey()
        #expect(try trail.log.verify(publicKey: key.publicKey, external: [.init(source: "report r", text: checkpoint.text)]).isClean)
        // A checkpoint signed over a tree the log does not contain (a report kept from before a rewrite).
        let other = try Checkpoint.sign(origin: trail.log.origin, size: 2, root: [UInt8](repeating: 7, count: 32), key: key.privateKey)
        let result = try trail.log.verify(publicKey: key.publicKey, external: [.init(source: "report r", text: other.text)])
        #expect(result.problems.contains { $0.hasPrefix("report r") })
    }
}

/// The one entry bundle and level-0 hash tile of a log shorter than 256 entries, read and
/// rewritten as S would: by their C2SP names, with the format decoded here independently.
struct StoredTiles {
    let store: ObjectStore

    func bundleKey() throws -> ObjectKey {
        let keys = try store.list(prefix: try ObjectKey("audit/tile/entries")).map(\.key)
        guard keys.count == 1 else { throw LetheError.usage("expected one entry bundle, found \(keys)") }
        return keys[0]
    }

    func tileKey() throws -> ObjectKey {
        let keys = try store.list(prefix: try ObjectKey("audit/tile/0")).map(\.key)
        guard keys.count == 1 else { throw LetheError.usage("expected one hash tile, found \(keys)") }
        return keys[0]
    }

    func entries() throws -> [[UInt8]] {
        try StoredTiles.decode(try store.get(try bundleKey()))
    }

    static func decode(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var entries: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            entries.append(Array(bytes[(offset + 2)..<(offset + 2 + length)]))
            offset += 2 + length
        }
        return entries
    }

    static func bundle(_ entries: [[UInt8]]) -> [UInt8] {
        entries.flatMap { [UInt8($0.count >> 8), UInt8($0.count & 0xff)] + $0 }
    }

    /// Rewrites the bundle: in place, whatever the count (a lying object), or `renamed` to
    /// the partial width its count makes (a consistent cut).
    func setEntries(_ entries: [[UInt8]], renamed: Bool = false) throws {
        let key = try bundleKey()
        try store.delete(key)
        try store.put(renamed ? try StoredTiles.renamed(key, width: entries.count) : key, StoredTiles.bundle(entries))
    }

    static func renamed(_ key: ObjectKey, width: Int) throws -> ObjectKey {
        try ObjectKey(String(key.rawValue.dropLast(key.name.count)) + String(width))
    }

    func hashes() throws -> [[UInt8]] {
        let bytes = try store.get(try tileKey())
        return stride(from: 0, to: bytes.count, by: 32).map { Array(bytes[$0..<($0 + 32)]) }
    }

    func setHashes(_ hashes: [[UInt8]], renamed: Bool = false) throws {
        let key = try tileKey()
        try store.delete(key)
        try store.put(renamed ? try StoredTiles.renamed(key, width: hashes.count) : key, hashes.flatMap { $0 })
    }
}
