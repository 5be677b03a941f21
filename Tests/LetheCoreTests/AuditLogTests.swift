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

    func entryKey(_ index: Int) throws -> ObjectKey {
        try ObjectKey("audit/entries/" + String(repeating: "0", count: 20 - String(index).count) + String(index))
    }

    @Test func untouchedLogVerifies() throws {
        try appendFive()
        #expect(try problems().isEmpty)
        #expect(try trail.history().entries.count == 6, "init plus five")
    }

    @Test func editedEntryIsDetected() throws {
        try appendFive()
        let key = try entryKey(2)
        let text = String(decoding: try store.get(key), as: UTF8.self).replacingOccurrences(of: "test.event", with: "test.evenT")
        try store.put(key, Array(text.utf8))
        #expect(try !problems().isEmpty)
    }

    @Test func deletedEntryIsDetected() throws {
        try appendFive()
        try store.delete(try entryKey(3))
        #expect(try problems().contains { $0.contains("missing") })
    }

    @Test func reorderedEntriesAreDetected() throws {
        try appendFive()
        let a = try store.get(try entryKey(2))
        let b = try store.get(try entryKey(3))
        try store.put(try entryKey(2), b)
        try store.put(try entryKey(3), a)
        #expect(try problems().count >= 2)
    }

    @Test func truncatedLogIsDetectedByTheHeadThisHostKept() throws {
        try appendFive()
        // The whole cut, as S would make it: the newest entries, their checkpoints, and the
        // newest-checkpoint object put back to the older checkpoint. The store alone is then
        // consistent; only the checkpoint this host anchored in its key directory knows better.
        for index in [5, 4] { try store.delete(try entryKey(index)) }
        for object in try store.list(prefix: try ObjectKey("audit/checkpoints")) {
            if let size = Int(object.key.name), size > 4 { try store.delete(object.key) }
        }
        try store.put(try ObjectKey("audit/checkpoint"), try store.get(try ObjectKey("audit/checkpoints/00000000000000000004")))
        #expect(try problems().contains { $0.contains("cut short") })
        #expect(throws: LetheError.self) { try trail.record("after.the.cut", tenant: nil) }
        #expect(try store.list(prefix: try ObjectKey("audit/entries")).count == 4, "nothing was appended over the cut")
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

    @Test func appendAfterALostFrontierOrAnEntryPastTheCheckpointSignsOnlyTheTrueLog() throws {
        let trail = AuditTrail(test.installation)
        let store = test.installation.store
        try trail.record("a", tenant: nil)
        try store.delete(try ObjectKey("audit/frontier.json"))
        try trail.record("b", tenant: nil)
        // An entry past the signed checkpoint: a crash between an entry and its checkpoint, or
        // an entry planted by whoever writes the store. It was never part of the log, and the
        // next append overwrites it rather than signing over it.
        let orphan = AuditEntry(index: 3, time: "2026-01-01T00:00:00Z", actor: "x", operation: "orphan", tenant: nil, details: [:])
        try store.put(try ObjectKey("audit/entries/00000000000000000003"), try orphan.canonicalBytes())
        try store.put(try ObjectKey("audit/entries/00000000000000000004"), try orphan.canonicalBytes())
        let (entries, _) = try trail.record([AuditLog.Event("c", tenant: nil)])
        #expect(entries[0].index == 3)
        #expect(try trail.history().entries.map(\.operation) == ["init", "a", "b", "c"])
        #expect(try !store.exists(try ObjectKey("audit/entries/00000000000000000004")), "the stale leftover past the new size is removed")
        #expect(try trail.log.verify(publicKey: try test.installation.signingKey().publicKey).problems.isEmpty)
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

    @Test func anEditedEntryWithAMatchingFrontierIsNeverSigned() throws {
        for n in 0..<4 { try trail.record("event", tenant: nil, details: ["n": String(n)]) }
        // The finding: rewrite entry 2 and store the frontier that matches the rewritten tree.
        let key = try ObjectKey("audit/entries/00000000000000000002")
        let edited = String(decoding: try store.get(key), as: UTF8.self).replacingOccurrences(of: "\"n\":\"1\"", with: "\"n\":\"9\"")
        try store.put(key, Array(edited.utf8))
        var frontier = MerkleFrontier()
        for index in 0..<5 {
            let bytes = try store.get(try ObjectKey("audit/entries/" + String(format: "%020d", index)))
            try frontier.append(try MerkleTree.leafHash(bytes))
        }
        try store.put(try ObjectKey("audit/frontier.json"), Array(try JSONEncoder().encode(frontier)))
        #expect(integrityMessage { try trail.record("next", tenant: nil) }.contains("do not match the signed checkpoint"))
        #expect(try store.list(prefix: try ObjectKey("audit/entries")).count == 5, "nothing was appended over the edit")
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
        // something rewrites entry 1 and re-signs (O could; S cannot sign).
        let rewritten = AuditEntry(index: 1, time: "2026-01-10T02:00:00Z", actor: "x", operation: "rewritten", tenant: nil, details: [:])
        try store.put(try ObjectKey("audit/entries/00000000000000000001"), try rewritten.canonicalBytes())
        var frontier = MerkleFrontier()
        for index in 0..<4 {
            try frontier.append(try MerkleTree.leafHash(try store.get(try ObjectKey("audit/entries/" + String(format: "%020d", index)))))
        }
        let forged = try Checkpoint.sign(origin: logB.origin, size: 4, root: try frontier.root(), key: key.privateKey)
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
