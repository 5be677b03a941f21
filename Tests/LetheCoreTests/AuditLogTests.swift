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
