import Foundation
import Glibc
import LetheStore
import Testing

@Suite struct LocalStoreTests {
    let scratch = Scratch()
    var store: LocalStore { try! LocalStore(root: "\(scratch.path)/store") }

    func key(_ text: String) -> ObjectKey { try! ObjectKey(text) }

    @Test func putThenGetWholeAndRange() throws {
        try store.put(key("tenants/a/data/00/p"), Array(0..<200).map { UInt8($0) })
        #expect(try store.get(key("tenants/a/data/00/p")).count == 200)
        #expect(try store.get(key("tenants/a/data/00/p"), range: 10..<13) == [10, 11, 12])
        #expect(try store.size(of: key("tenants/a/data/00/p")) == 200)
    }

    @Test func rangePastTheEndIsObjectTooShort() throws {
        try store.put(key("x"), [1, 2, 3])
        #expect(throws: ObjectTooShort.self) { _ = try store.get(key("x"), range: 2..<5) }
    }

    @Test func missingObjectIsObjectNotFound() {
        #expect(throws: ObjectNotFound(key: key("nothing"))) { _ = try store.get(key("nothing")) }
        #expect(throws: ObjectNotFound.self) { _ = try store.get(key("nothing"), range: 0..<1) }
        #expect((try? store.size(of: key("nothing"))) == .some(nil))
    }

    @Test func objectsAreOwnerOnly() throws {
        try store.put(key("tenants/a/tenant"), [1])
        var info = stat()
        stat("\(scratch.path)/store/tenants/a/tenant", &info)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test func listIsRecursiveSortedAndIgnoresStaging() throws {
        for name in ["t/b/2", "t/a/1", "t/b/1", "u/1"] { try store.put(key(name), [0]) }
        try FileSystem.writeAtomically([9], to: "\(scratch.path)/store/.staging/t#c#1.123.456")
        #expect(try store.list(prefix: key("t")).map(\.key.rawValue) == ["t/a/1", "t/b/1", "t/b/2"])
        #expect(try store.children(of: key("t")) == ["a", "b"])
        #expect(try store.list(prefix: key("nope")).isEmpty)
    }

    @Test func deleteIsIdempotentAndRemovesEmptyParentsButNotTheRoot() throws {
        try store.put(key("tenants/a/data/00/p"), [1])
        try store.delete(key("tenants/a/data/00/p"))
        try store.delete(key("tenants/a/data/00/p"))
        #expect(!FileSystem.exists("\(scratch.path)/store/tenants"))
        #expect(FileSystem.isDirectory("\(scratch.path)/store"))
    }

    @Test func deleteKeepsNonEmptyParents() throws {
        try store.put(key("t/a/1"), [1])
        try store.put(key("t/a/2"), [1])
        try store.delete(key("t/a/1"))
        #expect(try store.exists(key("t/a/2")))
    }

    @Test func discardIncompleteWritesRemovesOnlyThatPrefixesStagingFiles() throws {
        let staging = "\(scratch.path)/store/.staging"
        _ = store
        try FileSystem.writeAtomically([1], to: "\(staging)/tenants#a#data#00#p.11.22")
        try FileSystem.writeAtomically([1], to: "\(staging)/tenants#ab#data#00#p.11.22")
        try FileSystem.writeAtomically([1], to: "\(staging)/tenants#b#x.1.2")
        try store.discardIncompleteWrites(prefix: key("tenants/a"))
        #expect(try FileSystem.listDirectory(staging).sorted() == ["tenants#ab#data#00#p.11.22", "tenants#b#x.1.2"])
    }
}
