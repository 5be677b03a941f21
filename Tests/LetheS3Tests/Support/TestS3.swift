import Foundation
@testable import LetheS3
import LetheStore

/// The S3 service the tests run against: the SeaweedFS that `Scripts/seaweedfs.sh start`
/// runs on loopback (Scripts/test.sh starts it), described by the `LETHE_TEST_S3_*` variables.
/// Without them every S3 test fails, saying how to start it: none is skipped.
enum TestS3 {
    struct NotRunning: Error, CustomStringConvertible {
        let variable: String
        var description: String {
            "no S3 service for the S3 tests: \(variable) is not set. Start SeaweedFS with "
                + "`Scripts/seaweedfs.sh start && eval \"$(Scripts/seaweedfs.sh env)\"` and run the tests again "
                + "(Scripts/test.sh does both, and stops it afterwards)"
        }
    }

    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw NotRunning(variable: name) }
        return value
    }

    static var endpoint: URL {
        get throws {
            let text = try variable("LETHE_TEST_S3_ENDPOINT")
            guard let url = URL(string: text) else { throw NotRunning(variable: "LETHE_TEST_S3_ENDPOINT (not a URL: \(text))") }
            return url
        }
    }

    static var region: String { (try? variable("LETHE_TEST_S3_REGION")) ?? "us-east-1" }
    static var credentialsFile: String { get throws { try variable("LETHE_TEST_S3_CREDENTIALS_FILE") } }

    static func credentials() throws -> S3Credentials {
        try S3Credentials(accessKeyID: try variable("LETHE_TEST_S3_ACCESS_KEY_ID"),
                          secretAccessKey: secure(try variable("LETHE_TEST_S3_SECRET_ACCESS_KEY")))
    }

    /// A configuration for `bucket` under `prefix`, with short timeouts and backoffs so that
    /// fault tests stay fast, and the smallest part size S3 allows.
    static func configuration(bucket: String, prefix: String, endpoint: URL? = nil, timeout: TimeInterval = 20,
                              attempts: Int = 4) throws -> S3Configuration {
        S3Configuration(endpoint: try endpoint ?? self.endpoint, region: region, bucket: bucket, prefix: prefix,
                        credentials: .explicit(try credentials()), requestTimeout: timeout, maxAttempts: attempts,
                        initialBackoff: 0.05, maxBackoff: 0.2, partSize: S3Configuration.minimumPartSize)
    }

    static func store(bucket: String, prefix: String = uniqueName("t"), endpoint: URL? = nil, timeout: TimeInterval = 20,
                      clock: Clock = SystemClock()) throws -> S3Store {
        try S3Store(configuration: try configuration(bucket: bucket, prefix: prefix, endpoint: endpoint, timeout: timeout), clock: clock)
    }

    /// A client for bucket-level requests the store never makes (create a bucket, set
    /// versioning or a retention), and for looking behind the store (open uploads).
    static func client(bucket: String) throws -> S3Client {
        S3Client(configuration: try configuration(bucket: bucket, prefix: ""), credentials: try credentials())
    }

    static func uniqueName(_ stem: String) -> String {
        "\(stem)-\(UUID().uuidString.lowercased().prefix(13).replacingOccurrences(of: "-", with: ""))"
    }

    // MARK: Buckets

    private static let shared = SharedBucket()

    /// One unversioned bucket for the tests that only need a fresh prefix, created once.
    static func sharedBucket() throws -> String { try shared.name() }

    /// A new bucket; versioning enabled and Object Lock (which implies versioning) as asked.
    static func makeBucket(versioned: Bool = false, objectLock: Bool = false) throws -> String {
        let name = uniqueName("lethe-test")
        let client = try client(bucket: name)
        var request = S3Request(operation: "CreateBucket", method: "PUT", key: nil)
        if objectLock { request.headers.append(("x-amz-bucket-object-lock-enabled", "true")) }
        try client.performExpectingSuccess(request)
        if versioned && !objectLock {
            try sendXML(client, "PutBucketVersioning", key: nil, query: [("versioning", "")],
                        "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>")
        }
        return name
    }

    static func sendXML(_ client: S3Client, _ operation: String, key: String?, query: [(name: String, value: String)],
                        headers: [(name: String, value: String)] = [], _ xml: String) throws {
        let body = Array(xml.utf8)
        try client.performExpectingSuccess(S3Request(
            operation: operation, method: "PUT", key: key, query: query,
            headers: headers + [("content-type", "application/xml"), try S3Request.checksumHeader(body)], body: body))
    }

    /// The keys of the multipart uploads open in `bucket` under `prefix`.
    static func openUploads(bucket: String, prefix: String) throws -> [String] {
        let client = try client(bucket: bucket)
        let request = S3Request(operation: "ListMultipartUploads", method: "GET", key: nil,
                                query: [("uploads", ""), ("prefix", prefix)])
        let response = try client.performExpectingSuccess(request)
        return try client.decode(request, response, S3Responses.ListUploadsPage.parse).uploads.map(\.key)
    }

    private final class SharedBucket: @unchecked Sendable {
        private let lock = NSLock()
        private var created: String?

        func name() throws -> String {
            try lock.withLock {
                if let created { return created }
                let name = try makeBucket()
                created = name
                return name
            }
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift64) for test data.
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var out = [UInt8]()
    out.reserveCapacity(count + 8)
    while out.count < count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        withUnsafeBytes(of: state) { out.append(contentsOf: $0) }
    }
    return Array(out.prefix(count))
}

/// A fresh directory under the system's temporary directory, removed when released.
final class TestDirectory: @unchecked Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "lethe-s3-test-" + UUID().uuidString
        try! FileSystem.makeDirectories(path)
    }

    deinit {
        try? FileSystem.removeTree(path)
    }
}
