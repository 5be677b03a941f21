import Foundation
import LetheStore
import Testing
@testable import LetheRepository

/// Blobs read in runs give exactly what `readBlob` gives, with one ranged read per run; a run
/// that cannot be read leaves each blob's error to `readBlob`.
@Suite struct CoalescedBlobReaderTests {
    let fixture: RepositoryFixture
    let repository: Repository
    let counting: CountingStore

    init() throws {
        fixture = try RepositoryFixture()
        let source = try fixture.directory("source")
        for n in 0..<120 {
            try Data(testBytes(3_000 + n * 97, seed: UInt64(n))).write(to: URL(fileURLWithPath: "\(source)/f\(String(format: "%03d", n))"))
        }
        try Data(testBytes(3 << 20, seed: 999)).write(to: URL(fileURLWithPath: "\(source)/large"))
        _ = try fixture.backup(try fixture.repository("acme"), source: source)
        counting = CountingStore(fixture.store)
        repository = try Repository(store: counting, key: try fixture.key("acme"), compression: .standard)
        try repository.loadIndex()
    }

    /// Data blobs in pack order, as a restore of a first snapshot asks for them.
    var dataBlobsInPackOrder: [BlobID] {
        repository.index.locations.filter { $0.value.type == .data }
            .sorted { ($0.value.pack.hex, $0.value.offset) < ($1.value.pack.hex, $1.value.offset) }.map(\.key)
    }

    @Test func blobsReadInRunsAreTheBlobsWithOneReadPerPack() throws {
        let order = dataBlobsInPackOrder
        let packs = Set(order.map { repository.index.location(of: $0)!.pack })
        #expect(order.count > 120 && packs.count >= 1)
        let expected = try order.map { try repository.readBlob($0) }
        counting.rangedReads = 0
        let reader = CoalescedBlobReader(repository: repository, order: order)
        #expect(try order.map { try reader.read($0) } == expected)
        // A pack of this test is under the run limit, and its blobs tile it: one read each.
        #expect(counting.rangedReads == packs.count, "\(counting.rangedReads) reads for \(packs.count) packs")
    }

    @Test func blobsAskedForOutOfOrderOrTwiceAreStillRight() throws {
        let order = dataBlobsInPackOrder
        let reader = CoalescedBlobReader(repository: repository, order: order + order.prefix(10))
        for blob in order.reversed() + order.prefix(10) {
            #expect(try reader.read(blob) == repository.readBlob(blob))
        }
    }

    /// A run is read once: a blob asked for again after its run was let go (many copies of one
    /// file across a tree) costs one blob's read, not its whole run's.
    @Test func aRunLetGoIsNeverReadAgain() throws {
        let order = dataBlobsInPackOrder
        let first = try #require(order.first)
        let reader = CoalescedBlobReader(repository: repository, order: order)
        counting.rangedReads = 0
        _ = try reader.read(first)
        #expect(counting.rangedReads == 1)
        // Nine other runs of one blob each (the same pack read out of order makes runs of one).
        let others = Array(order.dropFirst().reversed().prefix(CoalescedBlobReader.retainedRuns + 1))
        let scattered = CoalescedBlobReader(repository: repository, order: [first] + others + Array(repeating: first, count: 50))
        counting.rangedReads = 0
        for blob in [first] + others { _ = try scattered.read(blob) }
        let afterRuns = counting.rangedReads
        counting.readBytes = 0
        for _ in 0..<50 { #expect(try scattered.read(first) == repository.readBlob(first)) }
        let location = try #require(repository.index.location(of: first))
        // Each repeat read exactly the blob: 50 of its own, and 50 by readBlob above for comparison.
        #expect(counting.rangedReads == afterRuns + 100)
        #expect(counting.readBytes == 100 * location.sealedLength)
    }

    /// S cuts a pack short: the blobs still inside it read, the one beyond its end is the
    /// integrity violation `readBlob` names.
    @Test func aTruncatedPackFailsOnlyTheBlobsBeyondItsEnd() throws {
        let order = dataBlobsInPackOrder
        let last = try #require(order.last)
        let location = try #require(repository.index.location(of: last))
        let key = Layout.pack(repository.tenant, location.pack)
        let bytes = try fixture.store.get(key)
        try fixture.store.put(key, Array(bytes.prefix(location.offset + 1)))
        let reader = CoalescedBlobReader(repository: repository, order: order)
        let first = try #require(order.first { repository.index.location(of: $0)!.pack == location.pack })
        #expect(throws: Never.self) { _ = try reader.read(first) }
        #expect(throws: IntegrityViolation.self) { _ = try reader.read(last) }
    }
}

/// A store that counts ranged reads, forwarding everything to a local store.
final class CountingStore: ObjectStore, @unchecked Sendable {
    let base: LocalStore
    private let lock = NSLock()
    private var reads = 0
    private var bytes = 0

    init(_ base: LocalStore) { self.base = base }

    var rangedReads: Int {
        get { lock.withLock { reads } }
        set { lock.withLock { reads = newValue } }
    }

    var readBytes: Int {
        get { lock.withLock { bytes } }
        set { lock.withLock { bytes = newValue } }
    }

    var location: String { base.location }
    func put(_ key: ObjectKey, _ bytes: [UInt8]) throws { try base.put(key, bytes) }
    func writer(for key: ObjectKey) throws -> ObjectWriter { try base.writer(for: key) }
    func get(_ key: ObjectKey) throws -> [UInt8] { try base.get(key) }
    func get(_ key: ObjectKey, range: Range<Int>) throws -> [UInt8] {
        lock.withLock { reads += 1; bytes += range.count }
        return try base.get(key, range: range)
    }
    func size(of key: ObjectKey) throws -> Int? { try base.size(of: key) }
    func list(prefix: ObjectKey) throws -> [ObjectInfo] { try base.list(prefix: prefix) }
    func children(of prefix: ObjectKey) throws -> [String] { try base.children(of: prefix) }
    func delete(_ key: ObjectKey) throws { try base.delete(key) }
    func discardIncompleteWrites(prefix: ObjectKey) throws { try base.discardIncompleteWrites(prefix: prefix) }
    func hasIncompleteWrites(prefix: ObjectKey) throws -> Bool { try base.hasIncompleteWrites(prefix: prefix) }
    func create(_ key: ObjectKey, _ bytes: [UInt8]) throws -> Bool { try base.create(key, bytes) }
    func delete(_ keys: [ObjectKey]) throws { try base.delete(keys) }
    func versioning() throws -> Versioning { try base.versioning() }
    func versions(prefix: ObjectKey) throws -> [ObjectVersion] { try base.versions(prefix: prefix) }
    func delete(_ version: ObjectVersion) throws { try base.delete(version) }
    func remainder(prefix: ObjectKey) throws -> [String] { try base.remainder(prefix: prefix) }
    func holds(prefix: ObjectKey) throws -> [RetentionHold] { try base.holds(prefix: prefix) }
}
