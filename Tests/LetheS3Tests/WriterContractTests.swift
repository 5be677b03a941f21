import Foundation
@testable import LetheS3
import LetheStore
import Testing

/// The `ObjectStore` contract for objects written in pieces, incomplete writes and
/// create-if-absent, against LocalStore and S3Store.
@Suite struct WriterContractTests {
    /// Where a LocalStore lives; kept as long as the test runs.
    let directory = TestDirectory()

    /// More than two of S3Store's test parts (5 MiB): three parts, the last one short.
    static let multipartSize = 11 * 1024 * 1024 + 123

    @Test(arguments: StoreKind.allCases)
    func aSmallWrittenObjectAppearsOnlyAtCommit(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        let writer = try store.writer(for: key("tenants/a/packs/p1"))
        try writer.write(testBytes(1000, seed: 2))
        try writer.write(testBytes(500, seed: 3))
        #expect(try store.size(of: key("tenants/a/packs/p1")) == nil)
        #expect(try store.list(prefix: key("tenants/a")).isEmpty)
        try writer.commit()
        #expect(try store.get(key("tenants/a/packs/p1")) == testBytes(1000, seed: 2) + testBytes(500, seed: 3))
    }

    @Test(arguments: StoreKind.allCases)
    func aLargeWrittenObjectAppearsWhole(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        let bytes = testBytes(Self.multipartSize, seed: 4)
        let writer = try store.writer(for: key("tenants/a/packs/big"))
        var offset = 0
        for size in [1, 3 * 1024 * 1024, 4 * 1024 * 1024 + 7] + Array(repeating: 1024 * 1024, count: 5) {
            let end = min(offset + size, bytes.count)
            try writer.write(Array(bytes[offset..<end]))
            offset = end
        }
        try writer.write(Array(bytes[offset...]))
        #expect(try store.size(of: key("tenants/a/packs/big")) == nil, "nothing is visible before commit")
        try writer.commit()
        #expect(try store.size(of: key("tenants/a/packs/big")) == bytes.count)
        #expect(try store.get(key("tenants/a/packs/big")) == bytes)
        #expect(try store.get(key("tenants/a/packs/big"), range: 5_242_870..<5_242_890) == Array(bytes[5_242_870..<5_242_890]))
    }

    @Test(arguments: StoreKind.allCases)
    func anAbortedOrReleasedWriterLeavesNothing(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        let aborted = try store.writer(for: key("tenants/a/packs/aborted"))
        try aborted.write(testBytes(Self.multipartSize, seed: 5))
        aborted.abort()
        do {
            let released = try store.writer(for: key("tenants/a/packs/released"))
            try released.write(testBytes(Self.multipartSize, seed: 6))
        }
        #expect(try store.list(prefix: key("tenants/a")).isEmpty)
        #expect(try store.versions(prefix: key("tenants/a")).isEmpty)
        if let s3 = store as? S3Store {
            #expect(try TestS3.openUploads(bucket: s3.configuration.bucket, prefix: s3.configuration.prefix + "/").isEmpty,
                    "both multipart uploads were aborted")
        }
    }

    /// Writers of `tenants/alpha` itself and below it are discarded; one of `tenants/alpha.old`
    /// is not, and still commits.
    @Test(arguments: StoreKind.allCases)
    func discardingIncompleteWritesTouchesExactlyThePrefix(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        // Past one part, so that S3Store has started a multipart upload for each.
        let bytes = testBytes(S3Configuration.minimumPartSize + 10, seed: 7)
        var writers: [String: ObjectWriter] = [:]
        for name in ["tenants/alpha", "tenants/alpha/packs/p", "tenants/alpha.old/packs/p", "tenants/alphabet"] {
            let writer = try store.writer(for: key(name))
            try writer.write(bytes)
            writers[name] = writer
        }
        try store.discardIncompleteWrites(prefix: key("tenants/alpha"))
        try writers["tenants/alpha.old/packs/p"]!.commit()
        try writers["tenants/alphabet"]!.commit()
        expectDiscarded(store) { try writers["tenants/alpha"]!.commit() }
        expectDiscarded(store) { try writers["tenants/alpha/packs/p"]!.commit() }
        #expect(try store.get(key("tenants/alpha.old/packs/p")) == bytes)
        #expect(try store.get(key("tenants/alphabet")) == bytes)
        #expect(try store.size(of: key("tenants/alpha")) == nil)
        #expect(try store.list(prefix: key("tenants/alpha")).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func createSucceedsOnlyWhenNothingIsThere(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        #expect(try store.create(key("tenants/a/lock"), [1]))
        #expect(try store.create(key("tenants/a/lock"), [2]) == false)
        #expect(try store.get(key("tenants/a/lock")) == [1])
        try store.delete(key("tenants/a/lock"))
        #expect(try store.create(key("tenants/a/lock"), [3]))
        #expect(try store.get(key("tenants/a/lock")) == [3])
    }

    @Test(arguments: StoreKind.allCases)
    func ofConcurrentCreatorsExactlyOneWins(_ kind: StoreKind) throws {
        let store = try kind.make(in: directory)
        let results = ResultsBox()
        try concurrently(Array(0..<8), width: 8) { creator in
            let won = try store.create(key("tenants/a/lease"), Array("worker \(creator)".utf8))
            results.record(creator, won)
        }
        let winners = results.winners
        #expect(winners.count == 1)
        let winner = try #require(winners.first)
        #expect(try store.get(key("tenants/a/lease")) == Array("worker \(winner)".utf8))
    }
}

/// Checks that committing a discarded write fails as the store reports it: LocalStore cannot
/// rename the staging file that is gone (`ENOENT`), S3 no longer knows the upload (404 NoSuchUpload).
func expectDiscarded(_ store: any ObjectStore, sourceLocation: SourceLocation = #_sourceLocation, _ commit: () throws -> Void) {
    do {
        try commit()
        Issue.record("a discarded write committed", sourceLocation: sourceLocation)
    } catch let error as SystemError {
        #expect(store is LocalStore && error.isNotFound, "\(error)", sourceLocation: sourceLocation)
    } catch let error as S3Error {
        #expect(store is S3Store && error.status == 404 && error.code == "NoSuchUpload", "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}

final class ResultsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var won: [Int] = []
    func record(_ creator: Int, _ didWin: Bool) { lock.withLock { if didWin { won.append(creator) } } }
    var winners: [Int] { lock.withLock { won } }
}
