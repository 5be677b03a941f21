import Foundation
@testable import LetheS3
import LetheStore
import Testing

/// The `ObjectStore` contract, run against LocalStore and against S3Store on a real SeaweedFS:
/// whole objects, ranges, sizes, listings, children and deletes.
@Suite struct ObjectStoreContractTests {
    /// Where a LocalStore lives; kept as long as the test runs.
    let directory = TestDirectory()

    @Test(arguments: StoreKind.allCases)
    func putThenGetReturnsTheSameBytes(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        let bytes = testBytes(300_000, seed: 1)
        try store.put(key("tenants/a/data/00/p"), bytes)
        #expect(try store.get(key("tenants/a/data/00/p")) == bytes)
        try store.put(key("empty"), [])
        #expect(try store.get(key("empty")) == [])
    }

    @Test(arguments: StoreKind.allCases)
    func putReplacesAnExistingObject(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        try store.put(key("x"), [1, 2, 3, 4])
        try store.put(key("x"), [9])
        #expect(try store.get(key("x")) == [9])
        #expect(try store.size(of: key("x")) == 1)
    }

    /// Many objects at once, in new folders and over an existing object, and nothing staged
    /// left behind (the local store writes them all, flushes once, renames, flushes again).
    @Test(arguments: StoreKind.allCases)
    func aBatchPutStoresEveryObject(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        try store.put(key("tenants/t3/tenant"), [0])
        let objects = (0..<40).map { n in (key: key("tenants/t\(n)/tenant"), bytes: testBytes(100 + n, seed: UInt64(n))) }
        try store.put(objects)
        for object in objects {
            #expect(try store.get(object.key) == object.bytes)
        }
        #expect(try store.list(prefix: key("tenants")).count == 40)
        #expect(try !store.hasIncompleteWrites(prefix: key("tenants")))
        try store.put([])
    }

    @Test(arguments: StoreKind.allCases)
    func aRangedGetReturnsThoseBytes(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        try store.put(key("t/p"), (0..<200).map { UInt8($0) })
        #expect(try store.get(key("t/p"), range: 10..<13) == [10, 11, 12])
        #expect(try store.get(key("t/p"), range: 197..<200) == [197, 198, 199])
        #expect(try store.get(key("t/p"), range: 0..<200) == (0..<200).map { UInt8($0) })
        #expect(try store.get(key("t/p"), range: 50..<50) == [])
    }

    @Test(arguments: StoreKind.allCases)
    func aRangePastTheEndIsATruncatedObject(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        try store.put(key("x"), [1, 2, 3])
        expectTooShort(store, key("x"), size: 3, wanted: 2..<5) { _ = try store.get(key("x"), range: 2..<5) }
        expectTooShort(store, key("x"), size: 3, wanted: 3..<4) { _ = try store.get(key("x"), range: 3..<4) }
        expectTooShort(store, key("x"), size: 3, wanted: 7..<9) { _ = try store.get(key("x"), range: 7..<9) }
    }

    @Test(arguments: StoreKind.allCases)
    func aMissingObjectIsObjectNotFound(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        #expect(throws: ObjectNotFound(key: key("nothing"))) { _ = try store.get(key("nothing")) }
        #expect(throws: ObjectNotFound(key: key("a/b"))) { _ = try store.get(key("a/b"), range: 0..<1) }
        #expect(throws: ObjectNotFound(key: key("a/b"))) { _ = try store.get(key("a/b"), range: 0..<0) }
    }

    @Test(arguments: StoreKind.allCases)
    func sizeIsTheObjectsLengthOrNil(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        try store.put(key("t/obj"), [UInt8](repeating: 7, count: 1234))
        #expect(try store.size(of: key("t/obj")) == 1234)
        #expect(try store.size(of: key("t/none")) == nil)
        #expect(try store.size(of: key("t")) == nil, "a folder is not an object")
        #expect(try store.exists(key("t/obj")) && !store.exists(key("t")))
    }

    /// A store holding `tenants/alpha/…` and the keys a plain string prefix would mix in with it.
    func storeWithNeighbours(_ kind: StoreKind) throws -> ObjectStore {
        let store = try kind.make(in: directory)
        for name in ["tenants/alpha/data/b", "tenants/alpha/data/a", "tenants/alpha/index", "tenants/alpha.old/data/a",
                     "tenants/alpha-2/x", "tenants/alphabet", "tenants/beta/index"] {
            try store.put(key(name), Array(name.utf8))
        }
        return store
    }

    @Test(arguments: StoreKind.allCases)
    func listReturnsThePrefixAndWhatIsBelowItSortedAndNothingElse(_ kind: StoreKind) throws {
        let store = try storeWithNeighbours(kind)
        #expect(try store.list(prefix: key("tenants/alpha")).map(\.key.rawValue)
            == ["tenants/alpha/data/a", "tenants/alpha/data/b", "tenants/alpha/index"])
        #expect(try store.list(prefix: key("tenants/alpha/index")) == [ObjectInfo(key: key("tenants/alpha/index"), size: 19)])
        #expect(try store.list(prefix: key("tenants/gamma")).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func listBelowLeavesOutThePrefixItself(_ kind: StoreKind) throws {
        let store = try storeWithNeighbours(kind)
        #expect(try store.list(below: key("tenants/alpha")).map(\.key.rawValue)
            == ["tenants/alpha/data/a", "tenants/alpha/data/b", "tenants/alpha/index"])
        #expect(try store.list(below: key("tenants/alpha/data")) == [ObjectInfo(key: key("tenants/alpha/data/a"), size: 20),
                                                                   ObjectInfo(key: key("tenants/alpha/data/b"), size: 20)])
        #expect(try store.list(below: key("tenants/alpha/index")).isEmpty, "an object is not below itself")
        #expect(try store.list(below: key("tenants/alphabet")).isEmpty)
        #expect(try store.list(below: key("tenants/gamma")).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func listGoesOnPastAThousandObjects(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        let names = (0..<1005).map { String(format: "tenants/many/data/%04d", $0) }
        try concurrently(names) { try store.put(key($0), [1]) }
        let listed = try store.list(prefix: key("tenants/many"))
        #expect(listed.count == 1005)
        #expect(listed.map(\.key.rawValue) == names)
        #expect(try store.list(below: key("tenants/many")) == listed)
    }

    @Test(arguments: StoreKind.allCases)
    func childrenAreTheNamesOneLevelDown(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        for name in ["tenants/b/index", "tenants/a/data/x", "tenants/a/index", "tenants/c", "tenantsX/d", "other/e"] {
            try store.put(key(name), [0])
        }
        #expect(try store.children(of: key("tenants")) == ["a", "b", "c"])
        #expect(try store.children(of: key("tenants/a")) == ["data", "index"])
        #expect(try store.children(of: key("tenants/c")) == [], "an object has no children")
        #expect(try store.children(of: key("nothing")) == [])
    }

    @Test(arguments: StoreKind.allCases)
    func deletingIsIdempotent(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        try store.put(key("t/x"), [1])
        try store.delete(key("t/x"))
        #expect(try store.size(of: key("t/x")) == nil)
        try store.delete(key("t/x"))
        try store.delete(key("never/was"))
        #expect(try store.list(prefix: key("t")).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func aBatchDeleteRemovesEveryKeyInBatchesAndIgnoresAbsentOnes(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        let keys = (0..<1003).map { key(String(format: "tenants/gone/%04d", $0)) }
        try concurrently(keys) { try store.put($0, [2]) }
        try store.put(key("tenants/kept"), [3])
        try store.delete(keys + [key("tenants/never-was")])
        #expect(try store.list(prefix: key("tenants/gone")).isEmpty)
        #expect(try store.get(key("tenants/kept")) == [3])
        try store.delete(keys)
    }
}

/// Runs `body` for every element on `width` threads of its own (uploading a thousand small
/// objects one by one would dominate the suite's time; the work waits on the network, so
/// Dispatch's one thread per core would be too few).
func concurrently<T: Sendable>(_ items: [T], width: Int = 8, _ body: @escaping @Sendable (T) throws -> Void) throws {
    let failures = FailureBox()
    let group = DispatchGroup()
    for lane in 0..<width {
        group.enter()
        Thread {
            var index = lane
            while index < items.count {
                do { try body(items[index]) } catch { failures.record(error) }
                index += width
            }
            group.leave()
        }.start()
    }
    group.wait()
    if let error = failures.first { throw error }
}

final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func record(_ error: Error) { lock.withLock { errors.append(error) } }
    var first: Error? { lock.withLock { errors.first } }
}
