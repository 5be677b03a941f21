import Foundation
@testable import LetheS3
import Testing

/// What a configuration accepts and the URLs it makes, without a server.
@Suite struct ConfigurationTests {
    static let credentials = try! S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secure("secret"))

    func configuration(_ endpoint: String = "http://127.0.0.1:8333", bucket: String = "backups", prefix: String = "lethe",
                       addressing: S3Configuration.AddressingStyle = .path) -> S3Configuration {
        S3Configuration(endpoint: URL(string: endpoint)!, region: "eu-central-1", bucket: bucket, prefix: prefix,
                        addressing: addressing, credentials: .explicit(Self.credentials))
    }

    @Test func pathStyleNamesTheBucketInThePath() throws {
        let client = S3Client(configuration: configuration(), credentials: Self.credentials)
        let (url, host, path) = try client.url(key: "lethe/tenants/a", query: "uploads=")
        #expect(url.absoluteString == "http://127.0.0.1:8333/backups/lethe/tenants/a?uploads=")
        #expect(host == "127.0.0.1:8333" && path == "/backups/lethe/tenants/a")
        #expect(try client.url(key: nil, query: "").0.absoluteString == "http://127.0.0.1:8333/backups")
    }

    @Test func virtualHostStyleNamesTheBucketInTheHost() throws {
        let client = S3Client(configuration: configuration("https://s3.eu-central-1.amazonaws.com", addressing: .virtualHost),
                              credentials: Self.credentials)
        let (url, host, path) = try client.url(key: "lethe/x", query: "")
        #expect(url.absoluteString == "https://backups.s3.eu-central-1.amazonaws.com/lethe/x")
        #expect(host == "backups.s3.eu-central-1.amazonaws.com" && path == "/lethe/x")
        #expect(try client.url(key: nil, query: "versioning=").0.absoluteString == "https://backups.s3.eu-central-1.amazonaws.com/?versioning=")
    }

    @Test func theDefaultPortIsLeftOutOfTheSignedHost() throws {
        let client = S3Client(configuration: configuration("https://minio.example:443"), credentials: Self.credentials)
        #expect(try client.url(key: "k", query: "").host == "minio.example")
    }

    @Test func theLocationIsBucketPrefixAndEndpoint() {
        #expect(configuration().location == "s3://backups/lethe (http://127.0.0.1:8333)")
        #expect(configuration(prefix: "").location == "s3://backups (http://127.0.0.1:8333)")
    }

    @Test(arguments: [
        ("ftp://host", "backups", "lethe"), ("http://host/path", "backups", "lethe"), ("http://host", "Backups", "lethe"),
        ("http://host", "ab", "lethe"), ("http://host", "backups", "/lethe"), ("http://host", "backups", "lethe/"),
        ("http://host", "backups", "a//b"), ("http://host", "backups", "a/../b"),
    ])
    func aConfigurationThatWouldMisplaceKeysIsRefused(_ endpoint: String, _ bucket: String, _ prefix: String) {
        #expect(throws: S3ConfigurationError.self) { try configuration(endpoint, bucket: bucket, prefix: prefix).validate() }
    }

    @Test func partsSmallerThanS3sMinimumAreRefused() throws {
        var small = configuration()
        small.partSize = 1024 * 1024
        #expect(throws: S3ConfigurationError.self) { try small.validate() }
        try configuration().validate()
    }

    @Test func backoffGrowsAndStaysUnderItsCeiling() {
        var settings = configuration()
        settings.initialBackoff = 0.1
        settings.maxBackoff = 0.35
        let client = S3Client(configuration: settings, credentials: Self.credentials)
        for _ in 0..<200 {
            #expect((0...0.1).contains(client.backoff(beforeRetry: 1)))
            #expect((0...0.2).contains(client.backoff(beforeRetry: 2)))
            #expect((0...0.35).contains(client.backoff(beforeRetry: 5)))
        }
        #expect((0..<50).map { _ in client.backoff(beforeRetry: 3) }.contains { $0 > 0.2 }, "full jitter reaches past the previous ceiling")
    }
}
