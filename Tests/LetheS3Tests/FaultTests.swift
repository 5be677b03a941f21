import Foundation
@testable import LetheS3
import LetheStore
import Testing

/// S3Store through a fault proxy in front of SeaweedFS: error statuses, connections dropped
/// mid-body, stalls past the timeout and answers lost after the request took effect.
/// Requests that are safe to repeat succeed on a retry; what fails for good throws an
/// `S3Error` and leaves nothing visible.
@Suite struct FaultTests {
    /// A store reaching SeaweedFS through a new proxy, and a direct one on the same prefix to
    /// look behind it.
    struct Setup {
        let proxy: FaultProxy
        let store: S3Store
        let direct: S3Store
    }

    func setup(timeout: TimeInterval = 20) throws -> Setup {
        let proxy = try FaultProxy(upstream: try TestS3.endpoint)
        let bucket = try TestS3.sharedBucket()
        let prefix = TestS3.uniqueName("fault")
        return Setup(proxy: proxy, store: try TestS3.store(bucket: bucket, prefix: prefix, endpoint: proxy.endpoint, timeout: timeout),
                     direct: try TestS3.store(bucket: bucket, prefix: prefix))
    }

    static func count(_ requests: [String], _ method: String, containing part: String = "") -> Int {
        requests.filter { $0.hasPrefix(method + " ") && (part.isEmpty || $0.contains(part)) }.count
    }

    @Test func aPutAnswered503IsRetriedUntilItSucceeds() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        s.proxy.inject(.respond(status: 503), times: 2) { $0.method == "PUT" }
        try s.store.put(key("x"), [1, 2, 3])
        #expect(try s.direct.get(key("x")) == [1, 2, 3])
        #expect(Self.count(s.proxy.requests, "PUT") == 3)
    }

    @Test func aGetAnswered500AndOneAnswered429AreRetried() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        try s.direct.put(key("x"), [4, 5])
        s.proxy.inject(.respond(status: 500)) { $0.method == "GET" }
        s.proxy.inject(.respond(status: 429)) { $0.method == "GET" }
        #expect(try s.store.get(key("x")) == [4, 5])
        #expect(Self.count(s.proxy.requests, "GET") == 3)
    }

    @Test func aPutDroppedMidBodyIsRetried() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        let bytes = testBytes(200_000, seed: 1)
        s.proxy.inject(.dropAfterBodyBytes(50_000)) { $0.method == "PUT" }
        try s.store.put(key("x"), bytes)
        #expect(try s.direct.get(key("x")) == bytes)
        #expect(Self.count(s.proxy.requests, "PUT") == 2)
    }

    @Test func aStalledRequestTimesOutAndIsRetried() throws {
        let s = try setup(timeout: 2)
        defer { s.proxy.stop() }
        try s.direct.put(key("x"), [7])
        s.proxy.inject(.stall) { $0.method == "GET" }
        let start = Date()
        #expect(try s.store.get(key("x")) == [7])
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 1.9 && elapsed < 10, "the first attempt waited for its timeout")
        #expect(Self.count(s.proxy.requests, "GET") == 2)
    }

    @Test func aPartDroppedMidUploadIsRetriedAndTheObjectIsWhole() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        let bytes = testBytes(WriterContractTests.multipartSize, seed: 2)
        s.proxy.inject(.dropAfterBodyBytes(100_000)) { $0.method == "PUT" && $0.target.contains("partNumber=2") }
        let writer = try s.store.writer(for: key("big"))
        try writer.write(bytes)
        try writer.commit()
        #expect(try s.direct.get(key("big")) == bytes)
        #expect(Self.count(s.proxy.requests, "PUT", containing: "partNumber=2") == 2)
    }

    /// The first create took effect but its answer was lost; the retry gets 412, and the
    /// write id on the object says it is this creator's.
    @Test func aCreateWhoseAnswerWasLostStillWins() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        s.proxy.inject(.loseAnswer) { $0.method == "PUT" && $0.headers["if-none-match"] == "*" }
        #expect(try s.store.create(key("lease"), [1]))
        #expect(try s.direct.get(key("lease")) == [1])
        #expect(Self.count(s.proxy.requests, "PUT") == 2 && Self.count(s.proxy.requests, "HEAD") == 1)
        #expect(try s.store.create(key("lease"), [2]) == false, "a second create, answered at once, loses")
    }

    /// A retried create that meets another creator's object returns false.
    @Test func aRetriedCreateThatMeetsAnotherCreatorsObjectLoses() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        #expect(try s.direct.create(key("lease"), [9]))
        s.proxy.inject(.respond(status: 503)) { $0.method == "PUT" }
        #expect(try s.store.create(key("lease"), [1]) == false)
        #expect(try s.direct.get(key("lease")) == [9])
        #expect(Self.count(s.proxy.requests, "HEAD") == 1, "the 412 after a retry was checked")
    }

    /// CompleteMultipartUpload took effect but its answer was lost: the retry finds the upload
    /// gone (or answers as before), and the object carries this writer's id.
    @Test func aCompletionWhoseAnswerWasLostStillCommits() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        let bytes = testBytes(WriterContractTests.multipartSize, seed: 3)
        s.proxy.inject(.loseAnswer) { $0.method == "POST" && $0.target.contains("uploadId=") }
        let writer = try s.store.writer(for: key("big"))
        try writer.write(bytes)
        try writer.commit()
        #expect(try s.direct.get(key("big")) == bytes)
        #expect(Self.count(s.proxy.requests, "POST", containing: "uploadId=") == 2, "\(s.proxy.requests)")
    }

    @Test func aPutThatFailsOnEveryAttemptThrowsAndLeavesNothing() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        s.proxy.inject(.respond(status: 503), times: 100) { $0.method == "PUT" }
        let error = #expect(throws: S3Error.self) { try s.store.put(key("x"), [1]) }
        #expect(error?.status == 503 && error?.attempts == 4 && error?.operation == "PutObject")
        #expect(try s.direct.size(of: key("x")) == nil)
    }

    /// Every attempt at part 2 is dropped, and so is every attempt to abort: the writer throws
    /// a transport error, nothing is visible, the upload stays open until
    /// discardIncompleteWrites removes it.
    @Test func anUploadThatFailsAfterItsRetriesLeavesNothingOnceDiscarded() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        s.proxy.inject(.dropAfterBodyBytes(1000), times: 100) { $0.method == "PUT" && $0.target.contains("partNumber=2") }
        s.proxy.inject(.respond(status: 503), times: 100) { $0.method == "DELETE" && $0.target.contains("uploadId=") }
        let writer = try s.store.writer(for: key("tenants/a/big"))
        let error = #expect(throws: S3Error.self) {
            try writer.write(testBytes(WriterContractTests.multipartSize, seed: 4))
            try writer.commit()
        }
        #expect(error?.operation == "UploadPart" && error?.attempts == 4)
        if case .transport = error?.reason {} else { Issue.record("expected no answer, got \(String(describing: error))") }
        #expect(try s.direct.list(prefix: key("tenants")).isEmpty)
        let prefix = s.direct.configuration.prefix + "/"
        #expect(try TestS3.openUploads(bucket: s.direct.configuration.bucket, prefix: prefix).count == 1, "the abort failed too")
        try s.direct.discardIncompleteWrites(prefix: key("tenants/a"))
        #expect(try TestS3.openUploads(bucket: s.direct.configuration.bucket, prefix: prefix).isEmpty)
    }

    /// Parts are sent while the next one fills. Part 1 fails on every attempt: the write that
    /// hands over part 2 throws UploadPart's error, part 2 is never sent, and the upload is
    /// aborted, so nothing is left, visible or not.
    @Test func aPartThatFailsWhileTheNextFillsIsThrownByTheNextWriteAndAborted() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        s.proxy.inject(.respond(status: 503), times: 100) { $0.method == "PUT" && $0.target.contains("partNumber=1&") }
        let writer = try s.store.writer(for: key("tenants/a/big"))
        let part = s.store.configuration.partSize
        try writer.write(testBytes(part, seed: 5))
        let error = #expect(throws: S3Error.self) {
            for n in 0..<3 { try writer.write(testBytes(part, seed: UInt64(6 + n))) }
        }
        #expect(error?.operation == "UploadPart" && error?.status == 503 && error?.attempts == 4)
        #expect(Self.count(s.proxy.requests, "PUT", containing: "partNumber=1&") == 4)
        #expect(Self.count(s.proxy.requests, "PUT", containing: "partNumber=2&") == 0)
        #expect(Self.count(s.proxy.requests, "DELETE", containing: "uploadId=") == 1)
        #expect(try s.direct.list(prefix: key("tenants")).isEmpty)
        #expect(try TestS3.openUploads(bucket: s.direct.configuration.bucket, prefix: s.direct.configuration.prefix + "/").isEmpty)
    }

    /// A writer released with part 1 in flight (answered 503, retried): its abort waits for
    /// the part, so no UploadPart reaches S3 after AbortMultipartUpload and no upload stays
    /// open. (From the review of the pipelined writer.)
    @Test func aWriterReleasedWithAPartInFlightAbortsAfterIt() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        s.proxy.inject(.respond(status: 503), times: 3) { $0.method == "PUT" && $0.target.contains("partNumber=1&") }
        do {
            let writer = try s.store.writer(for: key("tenants/a/big"))
            try writer.write(testBytes(s.store.configuration.partSize, seed: 5))
        }
        let requests = s.proxy.requests
        let delete = try #require(requests.lastIndex { $0.hasPrefix("DELETE ") && $0.contains("uploadId=") })
        #expect(!requests[delete...].contains { $0.hasPrefix("PUT ") }, "\(requests)")
        #expect(Self.count(requests, "PUT", containing: "partNumber=1&") == 4)
        #expect(try TestS3.openUploads(bucket: s.direct.configuration.bucket, prefix: s.direct.configuration.prefix + "/").isEmpty)
    }

    /// Listing below a prefix is one ListObjectsV2 (a page per thousand keys); listing the
    /// prefix as well costs a HeadObject of the prefix more.
    @Test func aListingBelowAPrefixAsksForNothingElse() throws {
        let s = try setup()
        defer { s.proxy.stop() }
        try s.direct.put(key("locks/t/a"), [1])
        #expect(try s.store.list(below: key("locks/t")).map(\.key) == [key("locks/t/a")])
        #expect(s.proxy.requests.count == 1 && Self.count(s.proxy.requests, "GET", containing: "list-type=2") == 1, "\(s.proxy.requests)")
        #expect(try s.store.list(prefix: key("locks/t")).map(\.key) == [key("locks/t/a")])
        #expect(Self.count(s.proxy.requests, "HEAD") == 1 && s.proxy.requests.count == 3)
    }

    @Test func noServiceAtAllIsATransportErrorAfterEveryAttempt() throws {
        let proxy = try FaultProxy(upstream: try TestS3.endpoint)
        let closed = proxy.endpoint
        proxy.stop()
        let store = try TestS3.store(bucket: try TestS3.sharedBucket(), endpoint: closed, timeout: 2)
        let error = #expect(throws: S3Error.self) { _ = try store.get(key("x")) }
        #expect(error?.reason == .transport("connection refused") && error?.attempts == 4)
    }
}
