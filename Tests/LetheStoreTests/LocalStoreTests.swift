import Foundation
import Glibc
import LetheStore
import Testing

@Suite struct LocalStoreTests {
    let directory = TestDirectory()
    var root: String { "\(directory.path)/store" }
    var staging: String { "\(root)/.staging" }
    var store: LocalStore { try! LocalStore(root: root) }

    func key(_ text: String) -> ObjectKey { try! ObjectKey(text) }

    // MARK: put, get, size

    @Test func putThenGetReturnsTheSameBytes() throws {
        let bytes = testBytes(300_000, seed: 1)
        try store.put(key("tenants/a/data/00/p"), bytes)
        #expect(try store.get(key("tenants/a/data/00/p")) == bytes)
        try store.put(key("empty"), [])
        #expect(try store.get(key("empty")) == [])
    }

    @Test func putReplacesAnExistingObject() throws {
        try store.put(key("x"), [1, 2, 3, 4])
        try store.put(key("x"), [9])
        #expect(try store.get(key("x")) == [9])
    }

    @Test func getOfARangeReturnsThoseBytes() throws {
        try store.put(key("tenants/a/data/00/p"), (0..<200).map { UInt8($0) })
        #expect(try store.get(key("tenants/a/data/00/p"), range: 10..<13) == [10, 11, 12])
        #expect(try store.get(key("tenants/a/data/00/p"), range: 197..<200) == [197, 198, 199])
        #expect(try store.get(key("tenants/a/data/00/p"), range: 50..<50) == [])
    }

    @Test func rangePastTheEndIsObjectTooShort() throws {
        try store.put(key("x"), [1, 2, 3])
        let error = #expect(throws: ObjectTooShort.self) { _ = try store.get(key("x"), range: 2..<5) }
        #expect(error?.key == key("x") && error?.size == 3 && error?.wanted == 2..<5)
        #expect(throws: ObjectTooShort.self) { _ = try store.get(key("x"), range: 3..<4) }
    }

    @Test func missingObjectIsObjectNotFound() throws {
        #expect(throws: ObjectNotFound(key: key("nothing"))) { _ = try store.get(key("nothing")) }
        #expect(throws: ObjectNotFound(key: key("a/b"))) { _ = try store.get(key("a/b"), range: 0..<1) }
    }

    @Test func sizeIsTheObjectsLengthOrNil() throws {
        try store.put(key("t/obj"), [UInt8](repeating: 0, count: 1234))
        #expect(try store.size(of: key("t/obj")) == 1234)
        #expect(try store.size(of: key("t/none")) == nil)
        #expect(try store.size(of: key("t")) == nil, "a folder is not an object")
        #expect(try store.exists(key("t/obj")) && !store.exists(key("t")))
    }

    @Test func objectsAreWrittenOwnerOnly() throws {
        try store.put(key("tenants/a/tenant"), [1])
        #expect(permissions("\(root)/tenants/a/tenant") == 0o600)
    }

    // MARK: list and children

    @Test func listIsRecursiveSortedAndIgnoresStagingAndDotNames() throws {
        for name in ["t/b/2", "t/a/1", "t/b/1", "t/b-c", "u/1"] { try store.put(key(name), [0]) }
        try store.put(key("t/a/sized"), [1, 2, 3])
        // A write in progress of a key under t/, and dot-names inside the prefix.
        try FileSystem.writeAtomically([9], to: "\(staging)/t#c#1@123.456")
        try FileSystem.makeDirectories("\(root)/t/.staging")
        try FileSystem.writeAtomically([9], to: "\(root)/t/.staging/t#d@1.2")
        try FileSystem.writeAtomically([9], to: "\(root)/t/a/.partial")
        let listed = try store.list(prefix: key("t"))
        #expect(listed.map(\.key.rawValue) == ["t/a/1", "t/a/sized", "t/b-c", "t/b/1", "t/b/2"])
        #expect(listed.first { $0.key == key("t/a/sized") }?.size == 3)
    }

    @Test func listOfASingleObjectOrNothing() throws {
        try store.put(key("t/x"), [1, 2])
        #expect(try store.list(prefix: key("t/x")) == [ObjectInfo(key: key("t/x"), size: 2)])
        #expect(try store.list(prefix: key("nope")).isEmpty)
    }

    @Test func childrenAreTheNamesOneLevelDown() throws {
        for name in ["tenants/b/tenant", "tenants/a/data/00/p", "tenants/c"] { try store.put(key(name), [0]) }
        try FileSystem.makeDirectories("\(root)/tenants/.hidden")
        #expect(try store.children(of: key("tenants")) == ["a", "b", "c"])
        #expect(try store.children(of: key("tenants/a")) == ["data"])
        #expect(try store.children(of: key("nothing")) == [])
    }

    // MARK: delete

    @Test func deleteIsIdempotent() throws {
        try store.put(key("t/x"), [1])
        try store.delete(key("t/x"))
        #expect(try !store.exists(key("t/x")))
        try store.delete(key("t/x"))
        try store.delete(key("never/was"))
        #expect(try !store.exists(key("t/x")))
    }

    /// Empty folders go, up to the top-level one, which is never removed however empty, so
    /// that no writer's parent can vanish between its `mkdir` and its `rename` (the race of
    /// the next test).
    @Test func deleteRemovesEmptyParentsUpToTheTopLevelFolder() throws {
        try store.put(key("tenants/a/data/00/p"), [1])
        try store.delete(key("tenants/a/data/00/p"))
        #expect(!FileSystem.exists("\(root)/tenants/a"))
        #expect(FileSystem.isDirectory("\(root)/tenants"))
        #expect(FileSystem.isDirectory(root))
        try store.put(key("top"), [1])
        try store.delete(key("top"))
        #expect(FileSystem.isDirectory(root))
        #expect(FileSystem.isDirectory(staging))
    }

    @Test func deleteKeepsParentsThatStillHoldSomething() throws {
        try store.put(key("t/a/1"), [1])
        try store.put(key("t/a/2"), [1])
        try store.put(key("t/b"), [1])
        try store.delete(key("t/a/1"))
        #expect(try store.exists(key("t/a/2")))
        try store.delete(key("t/a/2"))
        #expect(!FileSystem.exists("\(root)/t/a"))
        #expect(try store.exists(key("t/b")))
    }

    /// Regression: `backup --all` lost a tenant now and then with "cannot create directory
    /// …/locks/t643: No such file or directory", because one worker's delete pruned `locks/`
    /// (left empty for an instant) while another was creating its folder inside it. Writers
    /// in sibling folders and deleters of their own objects now run side by side, thousands
    /// of times, and every write and every create must succeed.
    @Test func writersAndDeletersInSiblingFoldersNeverRace() throws {
        let store = self.store
        let failures = Failures()
        let threads = 4
        let rounds = 1500
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            do {
                for round in 0..<rounds {
                    let object = try ObjectKey("locks/t\(worker)/\(round % 3)/lock")
                    if round.isMultiple(of: 2) {
                        try store.put(object, [UInt8(worker)])
                    } else {
                        guard try store.create(object, [UInt8(worker)]) else { throw ObjectNotFound(key: object) }
                    }
                    try store.delete(object)
                }
            } catch {
                failures.add("\(error)")
            }
        }
        #expect(failures.all.isEmpty)
        #expect(try store.list(prefix: key("locks")).isEmpty)
        #expect(try FileSystem.listDirectory("\(root)/locks").isEmpty, "every tenant's folder is gone")
        #expect(FileSystem.isDirectory("\(root)/locks"), "the shared top-level folder stays")
    }

    // MARK: Incomplete writes

    @Test func discardIncompleteWritesRemovesOnlyThatPrefixesStagingFiles() throws {
        _ = store
        let ofPrefix = ["tenants#a#data#00#p@11.22", "tenants#a#index#ff@1.2", "tenants#a@3.4"]
        let others = [
            "tenants#ab#data#00#p@11.22", "tenants#b#x@1.2", "tenants@5.6", "locks#a#x@7.8", "tenants#a.old#x@1.2",
            "tenants#a.b@1.2", "tenants#a-b#c@1.2", "tenants#a_b@1.2",
        ]
        for name in ofPrefix + others { try FileSystem.writeAtomically([1], to: "\(staging)/\(name)") }
        try store.discardIncompleteWrites(prefix: key("tenants/a"))
        #expect(try FileSystem.listDirectory(staging) == others.sorted())
    }

    /// Tenant ids may contain `.`, so `alpha.old` begins like `alpha`: its crashed writes are
    /// its own, and discarding `alpha`'s must leave them. The writers are kept open, as a
    /// crashed process leaves its staging files.
    @Test func discardingATenantsWritesSparesATenantWhoseIdStartsTheSame() throws {
        let store = self.store
        var writers: [String: ObjectWriter] = [:]
        var stagingNames: [String: String] = [:]
        for name in ["tenants/alpha", "tenants/alpha/data/00/p", "tenants/alpha.old/data/00/p", "tenants/alpha.old", "tenants/alphabet/x"] {
            let before = Set(try FileSystem.listDirectory(staging))
            let writer = try store.writer(for: key(name))
            try writer.write([1, 2, 3])
            writers[name] = writer
            let added = Set(try FileSystem.listDirectory(staging)).subtracting(before)
            #expect(added.count == 1)
            stagingNames[name] = added.first
        }
        try store.discardIncompleteWrites(prefix: key("tenants/alpha"))
        let survivors = Set(try FileSystem.listDirectory(staging))
        #expect(survivors == Set(["tenants/alpha.old/data/00/p", "tenants/alpha.old", "tenants/alphabet/x"].compactMap { stagingNames[$0] }))
        for writer in writers.values { writer.abort() }
        #expect(try FileSystem.listDirectory(staging).isEmpty)
    }

    @Test func anUncommittedWriterLeavesNothingVisibleOrStaged() throws {
        do {
            let writer = try store.writer(for: key("t/streamed"))
            try writer.write([1, 2, 3])
            #expect(try !store.exists(key("t/streamed")), "invisible before commit")
            #expect(try FileSystem.listDirectory(staging).count == 1)
        }
        #expect(try !store.exists(key("t/streamed")))
        #expect(try FileSystem.listDirectory(staging).isEmpty)
    }

    @Test func aCommittedWriterPublishesTheWholeObject() throws {
        let writer = try store.writer(for: key("t/streamed"))
        try writer.write([1, 2])
        try writer.write([3])
        try writer.commit()
        #expect(try store.get(key("t/streamed")) == [1, 2, 3])
        #expect(try FileSystem.listDirectory(staging).isEmpty)
    }
}

/// Errors gathered from concurrent workers.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}
