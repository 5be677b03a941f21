import Foundation
import LetheCrypto
import LetheStore

/// The `ObjectStore` on an S3-compatible bucket: what lets several Lethe hosts share one store.
///
/// An `ObjectKey` `k` is the S3 key `PREFIX/k` in the configured bucket (`k` itself when the
/// prefix is empty). Requests are signed with SigV4 and sent over FoundationNetworking; each
/// has a timeout, and those that are safe to repeat (all of them, see `S3Request.Retry` and
/// docs/s3.md) are retried with backoff. Every body sent carries `x-amz-checksum-sha256`, and
/// its SHA-256 is also the signed `x-amz-content-sha256`.
///
/// Failures are `S3Error`s naming the bucket, key and S3 error code; a missing object is
/// `ObjectNotFound`, as for every store. Nothing this type prints or throws holds a credential.
public final class S3Store: ObjectStore, CustomStringConvertible, CustomReflectable {
    public let configuration: S3Configuration
    let client: S3Client
    let clock: Clock

    /// Checks `configuration`, reads the credentials it names (from `environment` for
    /// `.environment`), and prepares the HTTP session. Sends nothing yet.
    public init(configuration: S3Configuration, clock: Clock = SystemClock(),
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try configuration.validate()
        self.configuration = configuration
        self.clock = clock
        client = S3Client(configuration: configuration, credentials: try configuration.credentials.load(environment: environment))
    }

    /// `s3://bucket/prefix (endpoint)`: no credential, no region secret, nothing else.
    public var location: String { configuration.location }
    public var description: String { "S3Store \(location)" }
    public var customMirror: Mirror { Mirror(self, children: ["location": location]) }

    var bucket: String { configuration.bucket }

    // MARK: Keys

    /// `PREFIX/key`.
    func s3Key(_ key: ObjectKey) -> String {
        configuration.prefix.isEmpty ? key.rawValue : "\(configuration.prefix)/\(key.rawValue)"
    }

    /// The `ObjectKey` of an S3 key under the prefix; nil for one that is not a valid key
    /// (which Lethe never writes), as `LocalStore` skips names it would never make.
    func objectKey(_ s3Key: String) -> ObjectKey? {
        let prefix = configuration.prefix.isEmpty ? "" : configuration.prefix + "/"
        guard s3Key.hasPrefix(prefix) else { return nil }
        return try? ObjectKey(String(s3Key.dropFirst(prefix.count)))
    }

    // MARK: Whole objects

    /// One PutObject. Safe to repeat: the same bytes under the same key give the same object
    /// (on a versioned bucket, a repeat after a lost answer leaves one more identical version).
    public func put(_ key: ObjectKey, _ bytes: [UInt8]) throws {
        let request = S3Request(operation: "PutObject", method: "PUT", key: s3Key(key),
                                headers: [try S3Request.checksumHeader(bytes)], body: bytes)
        try client.performExpectingSuccess(request)
    }

    public func writer(for key: ObjectKey) throws -> ObjectWriter {
        S3ObjectWriter(client: client, key: s3Key(key), partSize: configuration.partSize, writeID: try Self.newWriteID())
    }

    public func get(_ key: ObjectKey) throws -> [UInt8] {
        let request = S3Request(operation: "GetObject", method: "GET", key: s3Key(key))
        let response = try client.perform(request)
        if isMissingObject(response) { throw ObjectNotFound(key: key) }
        guard response.status == 200 else { throw client.failure(request, response) }
        return [UInt8](response.body)
    }

    /// A Range GET. S3 answers 206 with fewer bytes when the object ends inside the range, and
    /// 416 when it ends before the range starts; both are a truncated object.
    public func get(_ key: ObjectKey, range: Range<Int>) throws -> [UInt8] {
        precondition(range.lowerBound >= 0, "negative range")
        if range.isEmpty {
            guard let size = try size(of: key) else { throw ObjectNotFound(key: key) }
            guard size >= range.lowerBound else { throw tooShort(key, size: size, range) }
            return []
        }
        let request = S3Request(operation: "GetObject", method: "GET", key: s3Key(key),
                                headers: [("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")])
        let response = try client.perform(request)
        if isMissingObject(response) { throw ObjectNotFound(key: key) }
        switch response.status {
        case 206:
            let total = response.header("content-range").flatMap(Self.totalSize)
            guard response.body.count == range.count else {
                throw tooShort(key, size: total ?? range.lowerBound + response.body.count, range)
            }
            return [UInt8](response.body)
        case 200:
            // A server that ignores Range sends the whole object.
            guard response.body.count >= range.upperBound else { throw tooShort(key, size: response.body.count, range) }
            return [UInt8](response.body[range])
        case 416:
            let total = try response.header("content-range").flatMap(Self.totalSize) ?? size(of: key) ?? 0
            throw tooShort(key, size: total, range)
        default:
            throw client.failure(request, response)
        }
    }

    /// HeadObject: the size, or nil for no object. (A HEAD answer has no body, so a missing
    /// bucket also reads as no object here; every other call names it.)
    public func size(of key: ObjectKey) throws -> Int? {
        let request = S3Request(operation: "HeadObject", method: "HEAD", key: s3Key(key))
        let response = try client.perform(request)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw client.failure(request, response) }
        guard let length = response.header("content-length").flatMap({ Int($0) }), length >= 0 else {
            throw S3Error("HeadObject", bucket: bucket, key: request.key,
                          reason: .malformedResponse("no Content-Length"), attempts: response.attempts)
        }
        return length
    }

    /// DeleteObject: S3 answers 204 whether or not the key existed, so a repeat is harmless (on
    /// a versioned bucket it adds a second delete marker, which `versions` lists like the first).
    public func delete(_ key: ObjectKey) throws {
        let request = S3Request(operation: "DeleteObject", method: "DELETE", key: s3Key(key))
        let response = try client.perform(request)
        guard (200...299).contains(response.status) || isMissingObject(response) else { throw client.failure(request, response) }
    }

    /// PutObject with `If-None-Match: *`, which S3 refuses with 412 when the key exists.
    ///
    /// Retrying is what makes this subtle: when an attempt's answer is lost (a dropped
    /// connection, a 5xx) the write may still have happened, and the retry then gets 412
    /// although this caller is the creator. So every create carries a random write id in its
    /// metadata (`x-amz-meta-lethe-write`); a 412 after a retry is followed by a HeadObject, and
    /// the create succeeded exactly when the object there carries this write's id. Comparing
    /// bytes instead would be wrong for leases, where two workers may write the same bytes.
    /// A 412 on the first attempt needs no check: nothing of ours can be there.
    public func create(_ key: ObjectKey, _ bytes: [UInt8]) throws -> Bool {
        let writeID = try Self.newWriteID()
        let request = S3Request(
            operation: "PutObject", method: "PUT", key: s3Key(key),
            headers: [try S3Request.checksumHeader(bytes), ("if-none-match", "*"), (S3ObjectWriter.writeIDHeader, writeID)],
            body: bytes, retry: .safeIncludingConflict)
        let response = try client.perform(request)
        switch response.status {
        case 200...299:
            return true
        case 412:
            return response.attempts > 1 ? try holdsWrite(request.key!, writeID) : false
        default:
            throw client.failure(request, response)
        }
    }

    /// 128 random bits in hex: no two writes share one.
    static func newWriteID() throws -> String {
        Hex.encode(try SystemRandom.bytes(count: 16))
    }

    /// Whether the object now under `s3Key` is the one the write with `writeID` made.
    func holdsWrite(_ s3Key: String, _ writeID: String) throws -> Bool {
        let request = S3Request(operation: "HeadObject", method: "HEAD", key: s3Key)
        let response = try client.perform(request)
        if response.status == 404 { return false }
        guard response.status == 200 else { throw client.failure(request, response) }
        return response.header(S3ObjectWriter.writeIDHeader) == writeID
    }

    // MARK: Helpers

    /// 404 with `NoSuchKey`, or with no error document (HEAD, some servers); a 404 that names
    /// another code (`NoSuchBucket`) is an error, not a missing object.
    func isMissingObject(_ response: S3Response) -> Bool {
        guard response.status == 404 else { return false }
        let code = S3Responses.ErrorDocument.parse(response.body)?.code
        return code == nil || code == "NoSuchKey"
    }

    /// The total of `Content-Range: bytes 0-9/1234` or `bytes */1234`.
    static func totalSize(_ contentRange: String) -> Int? {
        guard let slash = contentRange.lastIndex(of: "/") else { return nil }
        return Int(String(contentRange[contentRange.index(after: slash)...]).trimmed)
    }

    /// A bucket holds objects, versions and delete markers, and nothing else: an empty prefix
    /// some servers (SeaweedFS) go on listing after its last object is deleted stores nothing.
    public func remainder(prefix: ObjectKey) throws -> [String] { [] }

    /// A truncated object, as the contract reports it: an integrity violation naming the key.
    func tooShort(_ key: ObjectKey, size: Int, _ range: Range<Int>) -> Error {
        ObjectTooShort(key: key, size: size, wanted: range)
    }
}
