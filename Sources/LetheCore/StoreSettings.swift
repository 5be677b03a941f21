import Foundation
import LetheS3
import LetheStore

/// Where an installation's objects are, when that is an S3 bucket rather than the local
/// directory `storeDirectory`. `lethe.json` holds these, never a credential: credentials come
/// from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` or from `credentialsFile` (0600).
public struct S3Settings: Codable, Equatable, Sendable {
    public var endpoint: String
    public var region: String
    public var bucket: String
    public var prefix: String
    /// `path` (`https://host/bucket/key`, the default) or `virtual-host` (`https://bucket.host/key`).
    public var addressing: String
    /// An AWS shared-credentials file, checked 0600 and owned by the service's user.
    public var credentialsFile: String?

    public init(endpoint: String, region: String, bucket: String, prefix: String, addressing: String = "path", credentialsFile: String? = nil) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.prefix = prefix
        self.addressing = addressing
        self.credentialsFile = credentialsFile
    }

    /// `s3://BUCKET/PREFIX` as given to `lethe init --store`, or nil for anything else.
    public static func parse(_ url: String, endpoint: String?, region: String?, credentialsFile: String?, addressing: String?) throws -> S3Settings? {
        guard url.hasPrefix("s3://") else { return nil }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" }).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard !bucket.isEmpty else { throw LetheError.usage("\(url) names no bucket (s3://BUCKET/PREFIX)") }
        guard let endpoint else { throw LetheError.usage("an S3 store needs --s3-endpoint URL (https://s3.eu-central-1.amazonaws.com, http://127.0.0.1:8333, …)") }
        let style = addressing ?? "path"
        guard style == "path" || style == "virtual-host" else { throw LetheError.usage("--s3-addressing is path or virtual-host, not \(style)") }
        return S3Settings(
            endpoint: endpoint, region: region ?? "us-east-1", bucket: bucket, prefix: prefix, addressing: style,
            credentialsFile: credentialsFile.map(FileSystem.absolute))
    }

    /// The store these settings name.
    func open(clock: Clock, environment: [String: String]) throws -> S3Store {
        guard let url = URL(string: endpoint) else { throw LetheError.usage("the S3 endpoint \(endpoint) is not a URL") }
        return try S3Store(
            configuration: S3Configuration(
                endpoint: url, region: region, bucket: bucket, prefix: prefix,
                addressing: addressing == "virtual-host" ? .virtualHost : .path,
                credentials: credentialsFile.map { .file(path: $0) } ?? .environment),
            clock: clock, environment: environment)
    }
}
